package users

import (
	"crypto/rand"
	"math/big"
)

// passwordClasses are the character classes of a temporary password; Entra requires three of four
// (https://learn.microsoft.com/entra/identity/authentication/concept-password-ban-bad-combined-policy).
// Ambiguous characters (0/O, 1/l/I) are left out because an administrator may have to read it aloud.
var passwordClasses = []string{
	"ABCDEFGHJKLMNPQRSTUVWXYZ",
	"abcdefghijkmnopqrstuvwxyz",
	"23456789",
	"!#$%&*+-=?@^_",
}

// NewTemporaryPassword returns a random 20-character password with every class present.
func NewTemporaryPassword() (string, error) {
	const n = 20
	out := make([]byte, 0, n)
	all := ""
	for _, c := range passwordClasses {
		all += c
		ch, err := pick(c)
		if err != nil {
			return "", err
		}
		out = append(out, ch)
	}
	for len(out) < n {
		ch, err := pick(all)
		if err != nil {
			return "", err
		}
		out = append(out, ch)
	}
	// Shuffle so the class order does not leak.
	for i := len(out) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", err
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return string(out), nil
}

func pick(set string) (byte, error) {
	i, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
	if err != nil {
		return 0, err
	}
	return set[i.Int64()], nil
}
