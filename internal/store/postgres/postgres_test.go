package postgres_test

import (
	"testing"

	"certflow/internal/store/postgres"
	"certflow/internal/store/storetest"
)

func TestConformance(t *testing.T) { storetest.Run(t, postgres.OpenTest) }
