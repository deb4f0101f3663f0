package simulator

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Token validation failures; the Graph and vault front ends map them to their own 401 bodies.
var (
	errTokenMalformed = errors.New("token is malformed")
	errTokenSignature = errors.New("token signature is invalid")
	errTokenExpired   = errors.New("token is expired")
	errTokenNotYet    = errors.New("token is not yet valid")
)

// clockSkew is the leeway Entra-protected resources allow on exp and nbf (five minutes, as
// Microsoft.IdentityModel's default).
const clockSkew = 5 * time.Minute

// tokenClaims are the access-token claims the simulator issues and checks.
type tokenClaims struct {
	Aud            string   `json:"aud"`
	Iss            string   `json:"iss"`
	Iat            int64    `json:"iat"`
	Nbf            int64    `json:"nbf"`
	Exp            int64    `json:"exp"`
	AppDisplayName string   `json:"app_displayname,omitempty"`
	AppID          string   `json:"appid"`
	AppIDACR       string   `json:"appidacr"`
	Azp            string   `json:"azp"`
	IdTyp          string   `json:"idtyp"`
	Oid            string   `json:"oid"`
	Roles          []string `json:"roles,omitempty"`
	Sub            string   `json:"sub"`
	Tid            string   `json:"tid"`
	Uti            string   `json:"uti"`
	Ver            string   `json:"ver"`
}

// signer holds the RSA key tokens are signed with (RS256, like Entra).
type signer struct {
	key *rsa.PrivateKey
	kid string
}

const signingKeyFile = "signing-key.pem"

// loadOrCreateSigner loads the signing key from stateDir, or creates one (saved when stateDir is set), so
// tokens issued before a restart stay valid after it.
func loadOrCreateSigner(stateDir string) (*signer, error) {
	var key *rsa.PrivateKey
	data, err := readStateFile(stateDir, signingKeyFile)
	switch {
	case err == nil:
		b, _ := pem.Decode(data)
		if b == nil {
			return nil, fmt.Errorf("%s is not PEM", signingKeyFile)
		}
		if key, err = x509.ParsePKCS1PrivateKey(b.Bytes); err != nil {
			return nil, fmt.Errorf("parsing token signing key: %w", err)
		}
	case errors.Is(err, fs.ErrNotExist):
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, fmt.Errorf("generating token signing key: %w", err)
		}
		if stateDir != "" {
			der := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
			if err := writeFileAtomic(filepath.Join(stateDir, signingKeyFile), der, 0o600); err != nil {
				return nil, err
			}
		}
	default:
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("encoding token signing key: %w", err)
	}
	sum := sha256.Sum256(pub)
	return &signer{key: key, kid: base64.RawURLEncoding.EncodeToString(sum[:20])}, nil
}

func readStateFile(dir, name string) ([]byte, error) {
	if dir == "" {
		return nil, fs.ErrNotExist
	}
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("reading state file: %w", err)
	}
	return data, nil
}

// sign encodes and signs claims as a compact JWT.
func (s *signer) sign(claims *tokenClaims) (string, error) {
	header, err := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256", "kid": s.kid, "x5t": s.kid})
	if err != nil {
		return "", fmt.Errorf("encoding token header: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encoding token claims: %w", err)
	}
	signed := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("signing token: %w", err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// verify checks the token's form, algorithm, key id, signature and lifetime (with clockSkew). The caller
// checks audience and tenant, whose failures each front end reports differently.
func (s *signer) verify(token string, now time.Time) (*tokenClaims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errTokenMalformed
	}
	var header struct{ Alg, Kid string }
	if err := decodeSegment(parts[0], &header); err != nil {
		return nil, err
	}
	if header.Alg != "RS256" || header.Kid != s.kid {
		return nil, errTokenSignature
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, errTokenMalformed
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&s.key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return nil, errTokenSignature
	}
	var c tokenClaims
	if err := decodeSegment(parts[1], &c); err != nil {
		return nil, err
	}
	switch {
	case now.After(time.Unix(c.Exp, 0).Add(clockSkew)):
		return nil, errTokenExpired
	case now.Add(clockSkew).Before(time.Unix(c.Nbf, 0)):
		return nil, errTokenNotYet
	}
	return &c, nil
}

func decodeSegment(seg string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return errTokenMalformed
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return errTokenMalformed
	}
	return nil
}

// jwks is the public key set served at /{tenant}/discovery/v2.0/keys.
func (s *signer) jwks() map[string]any {
	pub := s.key.PublicKey
	return map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": s.kid, "x5t": s.kid,
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}}
}
