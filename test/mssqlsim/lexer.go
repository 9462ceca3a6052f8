package mssqlsim

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// tokenKind classifies lexical tokens of T-SQL.
type tokenKind uint8

const (
	tkEOF    tokenKind = iota
	tkWord             // bare identifier or keyword
	tkQuoted           // [bracketed] or "double-quoted" identifier
	tkString           // 'text' or N'text'
	tkNumber           // 123, 1.5
	tkHex              // 0x0AFF
	tkParam            // @name
	tkSysVar           // @@name
	tkOp               // punctuation and operators
)

type token struct {
	Kind tokenKind
	Text string // identifier/keyword text, unquoted identifier, string value, operator
	Hex  []byte
	Pos  int // byte offset in the batch
	End  int
}

// is reports whether t is the keyword kw (case-insensitive). Quoted
// identifiers are never keywords.
func (t token) is(kw string) bool {
	return t.Kind == tkWord && strings.EqualFold(t.Text, kw)
}

func (t token) isOp(op string) bool { return t.Kind == tkOp && t.Text == op }

// lex splits a batch into tokens, skipping whitespace and comments.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(src) && src[i+1] == '-':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			// T-SQL block comments nest.
			depth, j := 0, i
			for j < len(src) {
				if strings.HasPrefix(src[j:], "/*") {
					depth++
					j += 2
				} else if strings.HasPrefix(src[j:], "*/") {
					depth--
					j += 2
					if depth == 0 {
						break
					}
				} else {
					j++
				}
			}
			if depth != 0 {
				return nil, fmt.Errorf("missing end comment mark '*/'")
			}
			i = j
		case c == '[':
			var sb strings.Builder
			j := i + 1
			for {
				if j >= len(src) {
					return nil, fmt.Errorf("unclosed quotation mark after the character string '%s'", src[i:])
				}
				if src[j] == ']' {
					if j+1 < len(src) && src[j+1] == ']' {
						sb.WriteByte(']')
						j += 2
						continue
					}
					break
				}
				sb.WriteByte(src[j])
				j++
			}
			toks = append(toks, token{Kind: tkQuoted, Text: sb.String(), Pos: i, End: j + 1})
			i = j + 1
		case c == '"':
			s, j, err := scanQuoted(src, i, '"')
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{Kind: tkQuoted, Text: s, Pos: i, End: j})
			i = j
		case c == '\'' || ((c == 'N' || c == 'n') && i+1 < len(src) && src[i+1] == '\''):
			start := i
			if c != '\'' {
				i++
			}
			s, j, err := scanQuoted(src, i, '\'')
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{Kind: tkString, Text: s, Pos: start, End: j})
			i = j
		case c == '0' && i+1 < len(src) && (src[i+1] == 'x' || src[i+1] == 'X'):
			j := i + 2
			for j < len(src) && isHexDigit(src[j]) {
				j++
			}
			h := src[i+2 : j]
			if len(h)%2 == 1 {
				h = "0" + h
			}
			b, err := hex.DecodeString(h)
			if err != nil {
				return nil, fmt.Errorf("invalid binary literal %q", src[i:j])
			}
			toks = append(toks, token{Kind: tkHex, Text: src[i:j], Hex: b, Pos: i, End: j})
			i = j
		case isDigit(c) || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			j := i
			for j < len(src) && (isDigit(src[j]) || src[j] == '.') {
				j++
			}
			toks = append(toks, token{Kind: tkNumber, Text: src[i:j], Pos: i, End: j})
			i = j
		case c == '@':
			kind, j := tkParam, i+1
			if j < len(src) && src[j] == '@' {
				kind, j = tkSysVar, j+1
			}
			k := j
			for k < len(src) && isIdentChar(src[k]) {
				k++
			}
			if k == j {
				return nil, fmt.Errorf("incorrect syntax near '@'")
			}
			toks = append(toks, token{Kind: kind, Text: src[j:k], Pos: i, End: k})
			i = k
		case isIdentStart(c):
			j := i
			for j < len(src) && isIdentChar(src[j]) {
				j++
			}
			toks = append(toks, token{Kind: tkWord, Text: src[i:j], Pos: i, End: j})
			i = j
		default:
			op := string(c)
			if i+1 < len(src) {
				two := src[i : i+2]
				switch two {
				case "<=", ">=", "<>", "!=", "!<", "!>", "::": // :: is the class qualifier (DATABASE::name)
					op = two
				}
			}
			if !strings.Contains("(),.;=<>*+-/%!", op[:1]) && op != "::" {
				return nil, fmt.Errorf("incorrect syntax near '%s'", op)
			}
			toks = append(toks, token{Kind: tkOp, Text: op, Pos: i, End: i + len(op)})
			i += len(op)
		}
	}
	toks = append(toks, token{Kind: tkEOF, Pos: len(src), End: len(src)})
	return toks, nil
}

// scanQuoted scans a quote-delimited literal starting at src[i] == q, where
// a doubled quote is an escaped quote. It returns the value and the index
// after the closing quote.
func scanQuoted(src string, i int, q byte) (string, int, error) {
	var sb strings.Builder
	j := i + 1
	for {
		if j >= len(src) {
			return "", 0, fmt.Errorf("unclosed quotation mark after the character string '%s'", src[i:])
		}
		if src[j] == q {
			if j+1 < len(src) && src[j+1] == q {
				sb.WriteByte(q)
				j += 2
				continue
			}
			return sb.String(), j + 1, nil
		}
		sb.WriteByte(src[j])
		j++
	}
}

func isDigit(c byte) bool    { return c >= '0' && c <= '9' }
func isHexDigit(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }
func isIdentStart(c byte) bool {
	return c == '_' || c == '#' || (c|0x20 >= 'a' && c|0x20 <= 'z') || c >= 0x80
}
func isIdentChar(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' || c == '@' }
