package mapping

import (
	"strings"
	"unicode/utf8"
)

// Limits of an Entra user principal name
// (https://learn.microsoft.com/entra/identity/hybrid/connect/plan-connect-userprincipalname).
const (
	maxUPNPrefix = 64
	maxUPN       = 113
)

// upnPrefixSymbols are the symbols Entra accepts in a UPN prefix besides letters and digits. '#' is
// there because guest UPNs look like alice_example.com#EXT#@contoso.onmicrosoft.com.
const upnPrefixSymbols = ".-_!#^~'"

// CheckUPN returns why s is not a valid user principal name, or "" when it is.
func CheckUPN(s string) string {
	if s == "" {
		return "required"
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.Count(s, "@") != 1 {
		return "not a user principal name (expected name@domain)"
	}
	prefix, domain := s[:at], s[at+1:]
	switch {
	case utf8.RuneCountInString(s) > maxUPN:
		return "longer than 113 characters"
	case len(prefix) > maxUPNPrefix:
		return "the part before @ is longer than 64 characters"
	case strings.HasPrefix(prefix, ".") || strings.HasSuffix(prefix, "."), strings.Contains(prefix, ".."):
		return "the part before @ may not start or end with a period or hold two in a row"
	}
	for _, r := range prefix {
		if !(isASCIIAlnum(r) || strings.ContainsRune(upnPrefixSymbols, r)) {
			return "the part before @ holds " + quoteRune(r) + "; allowed are letters, digits and " + upnPrefixSymbols
		}
	}
	if reason := checkDomain(domain); reason != "" {
		return reason
	}
	return ""
}

func checkDomain(d string) string {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return "the domain " + d + " has no dot"
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return "the domain " + d + " is not a valid DNS name"
		}
		for _, r := range l {
			if !(isASCIIAlnum(r) || r == '-') {
				return "the domain " + d + " holds " + quoteRune(r)
			}
		}
	}
	return ""
}

// Domain returns the lower-case domain of a UPN.
func Domain(upn string) string {
	return strings.ToLower(upn[strings.LastIndexByte(upn, '@')+1:])
}

func isASCIIAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

func quoteRune(r rune) string {
	if r == ' ' {
		return "a space"
	}
	return "'" + string(r) + "'"
}
