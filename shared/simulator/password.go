package simulator

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"
)

// msgWeakPassword is Graph's answer to a password outside the tenant's policy.
const msgWeakPassword = "The specified password does not comply with password complexity requirements. Please provide a different password."

// passwordSymbols are the non-alphanumeric characters Entra allows in a cloud password
// (https://learn.microsoft.com/entra/identity/authentication/concept-sspr-policy#password-policies-that-only-apply-to-cloud-user-accounts).
const passwordSymbols = "@#$%^&*-_!+=[]{}|\\:',.?/`~\"();<> "

// checkPassword applies Entra's cloud password policy: 8 to 256 characters from the allowed set and,
// unless the user has DisableStrongPassword, three of lower case, upper case, digits and symbols.
func checkPassword(pw string, strong bool) *graphError {
	n := utf8.RuneCountInString(pw)
	if n < 8 || n > 256 {
		return errBadRequest(msgWeakPassword)
	}
	var lower, upper, digit, symbol int
	for _, r := range pw {
		switch {
		case r >= 'a' && r <= 'z':
			lower = 1
		case r >= 'A' && r <= 'Z':
			upper = 1
		case r >= '0' && r <= '9':
			digit = 1
		case strings.ContainsRune(passwordSymbols, r):
			symbol = 1
		default:
			return errBadRequest(msgWeakPassword)
		}
	}
	if strong && lower+upper+digit+symbol < 3 {
		return errBadRequest(msgWeakPassword)
	}
	return nil
}

// passwordIterations is low on purpose: the hash only keeps clear passwords out of memory dumps and
// state files, and a 10,000-user wave must not spend minutes hashing.
const passwordIterations = 1000

// hashPassword returns "pbkdf2-sha256$<iterations>$<salt>$<hash>".
func hashPassword(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salting password hash: %w", err)
	}
	key, err := pbkdf2.Key(sha256.New, pw, salt, passwordIterations, 32)
	if err != nil {
		return "", fmt.Errorf("hashing password: %w", err)
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", passwordIterations, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}
