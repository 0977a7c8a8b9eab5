package workflow

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// idWeights are the GB 11643-1999 weights of the first 17 digits.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCheckChars maps the weighted sum mod 11 to the check character.
const idCheckChars = "10X98765432"

// IDNumber is a 公民身份号码 (GB 11643-1999): 6 digits of region code, the
// birth date YYYYMMDD, 3 digits of sequence (odd for men, even for women) and
// a check character.
type IDNumber string

// ParseIDNumber validates s as an 18-character 公民身份号码, its birth date
// and its check digit, and returns it normalised (upper-case X).
func ParseIDNumber(s string) (IDNumber, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	// A number typed with a Chinese input method comes in full-width
	// digits (０-９, Ｘ): name the character, rather than count its
	// bytes against the 18.
	for i, r := range []rune(s) {
		if r > unicode.MaxASCII {
			return "", fmt.Errorf("公民身份号码 is written in half-width (ASCII) digits and X: character %d is %q", i+1, r)
		}
	}
	if n := utf8.RuneCountInString(s); n != 18 {
		return "", fmt.Errorf("公民身份号码 must have 18 characters, got %d", n)
	}
	sum := 0
	for i := range 17 {
		c := s[i]
		if c < '0' || c > '9' {
			return "", fmt.Errorf("公民身份号码 character %d must be a digit", i+1)
		}
		sum += int(c-'0') * idWeights[i]
	}
	if want := idCheckChars[sum%11]; s[17] != want {
		return "", fmt.Errorf("公民身份号码 check digit is %c, want %c (GB 11643)", s[17], want)
	}
	if _, err := ParseDate(s[6:10] + "-" + s[10:12] + "-" + s[12:14]); err != nil {
		return "", fmt.Errorf("公民身份号码 holds no valid birth date")
	}
	return IDNumber(s), nil
}

// IDCheckChar computes the check character for the first 17 digits; demo
// data and tests build valid numbers with it.
func IDCheckChar(first17 string) byte {
	sum := 0
	for i := range 17 {
		sum += int(first17[i]-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

// BirthDate returns the birth date the number encodes.
func (n IDNumber) BirthDate() Date {
	d, _ := ParseDate(string(n[6:10]) + "-" + string(n[10:12]) + "-" + string(n[12:14]))
	return d
}

// Sex returns the sex the number encodes: "男" for odd sequence, "女" for even.
func (n IDNumber) Sex() Sex {
	if (n[16]-'0')%2 == 1 {
		return SexMale
	}
	return SexFemale
}
