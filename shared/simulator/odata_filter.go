package simulator

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// A parsed $filter expression. Property names are as written; the lambda variable of any() is
// rewritten to itVar.
type (
	filterNode interface{ isFilterNode() }
	cmpNode    struct {
		prop, op string
		val      any // string, bool, float64, nil, or dateLiteral
	}
	inNode struct {
		prop string
		vals []any
	}
	funcNode struct{ fn, prop, arg string } // startswith / endswith
	anyNode  struct {
		prop  string
		inner filterNode
	}
	logicNode struct {
		op          string // and / or
		left, right filterNode
	}
	notNode struct{ inner filterNode }
)

// dateLiteral is an unquoted OData DateTimeOffset literal, e.g. 2024-01-31T00:00:00Z.
type dateLiteral string

const itVar = "$it"

func (cmpNode) isFilterNode()   {}
func (inNode) isFilterNode()    {}
func (funcNode) isFilterNode()  {}
func (anyNode) isFilterNode()   {}
func (logicNode) isFilterNode() {}
func (notNode) isFilterNode()   {}

type filterToken struct {
	kind string // word, string, "(", ")", ",", ":"
	text string
}

// lexFilter splits a $filter expression into tokens. Strings are single-quoted; a doubled quote escapes one.
func lexFilter(s string) ([]filterToken, error) {
	var out []filterToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')' || c == ',' || c == ':':
			out = append(out, filterToken{kind: string(c)})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(s); j++ {
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j++
						continue
					}
					break
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string literal at position %d", i)
			}
			out = append(out, filterToken{kind: "string", text: b.String()})
			i = j + 1
		default:
			j := wordEnd(s, i)
			if j == i {
				return nil, fmt.Errorf("syntax error: character '%c' at position %d is not valid", c, i)
			}
			out = append(out, filterToken{kind: "word", text: s[i:j]})
			i = j
		}
	}
	return out, nil
}

func isWordByte(c byte) bool {
	return c < 0x80 && (unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c)) || strings.IndexByte("_.-+/$@", c) >= 0)
}

// wordEnd returns the end of the word starting at i. A DateTimeOffset literal (2024-01-31T10:00:00Z)
// may contain ':', which otherwise separates an any() range variable from its body.
func wordEnd(s string, i int) int {
	j := i
	for j < len(s) && isWordByte(s[j]) {
		j++
	}
	if j-i >= 10 && s[i+4] == '-' && unicode.IsDigit(rune(s[i])) {
		for j < len(s) && (isWordByte(s[j]) || s[j] == ':') {
			j++
		}
	}
	return j
}

// filterParser is a recursive-descent parser over the tokens: or > and > not > primary.
type filterParser struct {
	toks   []filterToken
	pos    int
	lambda string // the any() variable name while parsing its body
}

// parseFilter parses a $filter expression.
func parseFilter(s string) (filterNode, error) {
	toks, err := lexFilter(s)
	if err != nil {
		return nil, err
	}
	p := &filterParser{toks: toks}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("syntax error at '%s'", p.toks[p.pos].text+p.toks[p.pos].kind)
	}
	return n, nil
}

func (p *filterParser) peek() filterToken {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return filterToken{kind: "eof"}
}

func (p *filterParser) next() filterToken { t := p.peek(); p.pos++; return t }

func (p *filterParser) isKeyword(kw string) bool {
	t := p.peek()
	return t.kind == "word" && strings.EqualFold(t.text, kw)
}

func (p *filterParser) expect(kind string) error {
	if t := p.next(); t.kind != kind {
		return fmt.Errorf("syntax error: expected '%s' but found '%s'", kind, t.text+t.kind)
	}
	return nil
}

func (p *filterParser) parseOr() (filterNode, error) {
	left, err := p.parseAnd()
	for err == nil && p.isKeyword("or") {
		p.next()
		var right filterNode
		if right, err = p.parseAnd(); err == nil {
			left = logicNode{op: "or", left: left, right: right}
		}
	}
	return left, err
}

func (p *filterParser) parseAnd() (filterNode, error) {
	left, err := p.parseNot()
	for err == nil && p.isKeyword("and") {
		p.next()
		var right filterNode
		if right, err = p.parseNot(); err == nil {
			left = logicNode{op: "and", left: left, right: right}
		}
	}
	return left, err
}

func (p *filterParser) parseNot() (filterNode, error) {
	if p.isKeyword("not") {
		p.next()
		inner, err := p.parseNot()
		return notNode{inner: inner}, err
	}
	return p.parsePrimary()
}

func (p *filterParser) parsePrimary() (filterNode, error) {
	t := p.next()
	switch {
	case t.kind == "(":
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		return n, p.expect(")")
	case t.kind != "word":
		return nil, fmt.Errorf("syntax error: unexpected '%s'", t.text+t.kind)
	case p.peek().kind == "(" && !strings.Contains(t.text, "/"):
		return p.parseFunc(strings.ToLower(t.text))
	case p.peek().kind == "(":
		return p.parseLambda(t.text)
	}
	prop := p.propName(t.text)
	op := strings.ToLower(p.next().text)
	switch op {
	case "eq", "ne", "gt", "ge", "lt", "le":
		v, err := p.parseLiteral()
		return cmpNode{prop: prop, op: op, val: v}, err
	case "in":
		vals, err := p.parseList()
		return inNode{prop: prop, vals: vals}, err
	}
	return nil, fmt.Errorf("syntax error: '%s' is not a supported operator", op)
}

func (p *filterParser) propName(name string) string {
	if p.lambda != "" && name == p.lambda {
		return itVar
	}
	if p.lambda != "" && strings.HasPrefix(name, p.lambda+"/") {
		return itVar + name[len(p.lambda):] // a property of a complex item: $it/issuer
	}
	return name
}

func (p *filterParser) parseFunc(fn string) (filterNode, error) {
	if fn != "startswith" && fn != "endswith" {
		return nil, fmt.Errorf("function '%s' is not supported", fn)
	}
	p.next() // (
	prop := p.next()
	if prop.kind != "word" {
		return nil, fmt.Errorf("syntax error: %s expects a property", fn)
	}
	if err := p.expect(","); err != nil {
		return nil, err
	}
	arg := p.next()
	if arg.kind != "string" {
		return nil, fmt.Errorf("syntax error: %s expects a string literal", fn)
	}
	return funcNode{fn: fn, prop: p.propName(prop.text), arg: arg.text}, p.expect(")")
}

// parseLambda parses prop/any(v:body).
func (p *filterParser) parseLambda(path string) (filterNode, error) {
	prop, fn, _ := strings.Cut(path, "/")
	if !strings.EqualFold(fn, "any") || p.lambda != "" {
		return nil, fmt.Errorf("'%s' is not supported", path)
	}
	p.next() // (
	v := p.next()
	if v.kind != "word" {
		return nil, fmt.Errorf("syntax error: any() expects a range variable")
	}
	if err := p.expect(":"); err != nil {
		return nil, err
	}
	p.lambda = v.text
	body, err := p.parseOr()
	p.lambda = ""
	if err != nil {
		return nil, err
	}
	return anyNode{prop: prop, inner: body}, p.expect(")")
}

func (p *filterParser) parseList() ([]any, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	var vals []any
	for {
		v, err := p.parseLiteral()
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
		if t := p.next(); t.kind == ")" {
			return vals, nil
		} else if t.kind != "," {
			return nil, fmt.Errorf("syntax error in 'in' list")
		}
	}
}

func (p *filterParser) parseLiteral() (any, error) {
	t := p.next()
	if t.kind == "string" {
		return t.text, nil
	}
	if t.kind != "word" {
		return nil, fmt.Errorf("syntax error: expected a literal")
	}
	switch strings.ToLower(t.text) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	}
	if f, err := strconv.ParseFloat(t.text, 64); err == nil {
		return f, nil
	}
	if len(t.text) >= 10 && t.text[4] == '-' {
		return dateLiteral(t.text), nil
	}
	return nil, fmt.Errorf("syntax error: '%s' is not a literal", t.text)
}
