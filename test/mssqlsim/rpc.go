package mssqlsim

import (
	"fmt"
	"strings"
)

// Well-known RPC procedure ids (MS-TDS 2.2.6.6 ProcIDs).
const procIDExecuteSQL = 10

// rpcParam is one RPC parameter.
type rpcParam struct {
	Name   string // lower-case without '@'; empty for positional
	Output bool
	Type   sqlType
	Value  Value
}

// rpcRequest is a decoded RPC request (MS-TDS 2.2.6.6).
type rpcRequest struct {
	ProcID   uint16
	ProcName string
	Params   []rpcParam
}

// parseRPC decodes an RPC request message body. Only the first RPC of a
// batch is executed; go-mssqldb sends one per message.
func parseRPC(data []byte) (*rpcRequest, error) {
	r := newWireReader(data)
	if err := r.skipAllHeaders(); err != nil {
		return nil, fmt.Errorf("rpc: %w", err)
	}
	nameLen, err := r.u16()
	if err != nil {
		return nil, fmt.Errorf("rpc: proc name: %w", err)
	}
	req := &rpcRequest{}
	if nameLen == 0xFFFF {
		if req.ProcID, err = r.u16(); err != nil {
			return nil, fmt.Errorf("rpc: proc id: %w", err)
		}
	} else {
		b, err := r.bytes(int(nameLen) * 2)
		if err != nil {
			return nil, fmt.Errorf("rpc: proc name: %w", err)
		}
		req.ProcName = ucs2ToString(b)
	}
	if _, err := r.u16(); err != nil { // OptionFlags
		return nil, fmt.Errorf("rpc: option flags: %w", err)
	}
	for r.remaining() > 0 {
		// 0xFF/0xFE separate batched RPCs; the simulator runs the first one.
		if b := r.b[r.pos]; b == 0xFF || b == 0xFE || b == 0x80 {
			break
		}
		name, err := r.bVarChar()
		if err != nil {
			return nil, fmt.Errorf("rpc: parameter %d name: %w", len(req.Params)+1, err)
		}
		status, err := r.u8()
		if err != nil {
			return nil, fmt.Errorf("rpc: parameter %q status: %w", name, err)
		}
		if status&0x08 != 0 {
			return nil, fmt.Errorf("rpc: encrypted parameters are not supported by mssqlsim")
		}
		v, t, err := readTypedValue(r)
		if err != nil {
			return nil, fmt.Errorf("rpc: parameter %q: %w", name, err)
		}
		req.Params = append(req.Params, rpcParam{
			Name:   strings.ToLower(strings.TrimPrefix(name, "@")),
			Output: status&0x01 != 0,
			Type:   t,
			Value:  v,
		})
	}
	return req, nil
}

// isExecuteSQL reports whether the request calls sp_executesql.
func (r *rpcRequest) isExecuteSQL() bool {
	if r.ProcName == "" {
		return r.ProcID == procIDExecuteSQL
	}
	n := strings.ToLower(r.ProcName)
	return n == "sp_executesql" || n == "sys.sp_executesql" || n == "master..sp_executesql" || n == "master.sys.sp_executesql"
}

// executeSQLArgs extracts the statement text and the parameter values of an
// sp_executesql call: @stmt, @params, then the declared parameters.
func (r *rpcRequest) executeSQLArgs() (string, map[string]Value, error) {
	if len(r.Params) == 0 || r.Params[0].Value.K != KindString {
		return "", nil, sqlErr(214, 16, "Procedure expects parameter '@statement' of type 'ntext/nchar/nvarchar'.")
	}
	params := map[string]Value{}
	var decl []string
	if len(r.Params) > 1 {
		decl = declaredParamNames(r.Params[1].Value.S)
	}
	for i, p := range r.Params[min(2, len(r.Params)):] {
		name := p.Name
		if name == "" && i < len(decl) {
			name = decl[i]
		}
		if name == "" {
			return "", nil, sqlErr(8178, 16, "The parameterized query expects a parameter which was not supplied (position %d).", i+1)
		}
		params[name] = p.Value
	}
	return r.Params[0].Value.S, params, nil
}

// declaredParamNames extracts the names from an sp_executesql @params
// declaration such as "@p1 int,@p2 nvarchar(10)".
func declaredParamNames(decl string) []string {
	var out []string
	toks, err := lex(decl)
	if err != nil {
		return nil
	}
	for _, t := range toks {
		if t.Kind == tkParam {
			out = append(out, strings.ToLower(t.Text))
		}
	}
	return out
}

// Transaction manager request types (MS-TDS 2.2.6.9).
const (
	tmBeginXact    = 5
	tmCommitXact   = 7
	tmRollbackXact = 8
	tmSaveXact     = 9
)

// parseTransMgr returns the request type of a transaction manager request.
func parseTransMgr(data []byte) (uint16, error) {
	r := newWireReader(data)
	if err := r.skipAllHeaders(); err != nil {
		return 0, fmt.Errorf("transaction manager request: %w", err)
	}
	t, err := r.u16()
	if err != nil {
		return 0, fmt.Errorf("transaction manager request type: %w", err)
	}
	return t, nil
}

// parseSQLBatch returns the UCS-2 text of a SQLBatch message after its
// ALL_HEADERS (MS-TDS 2.2.6.7).
func parseSQLBatch(data []byte) (string, error) {
	r := newWireReader(data)
	// TDS 7.2+ always sends ALL_HEADERS; tolerate a batch without them
	// when the first DWORD cannot be a header length.
	if r.remaining() >= 4 {
		if err := r.skipAllHeaders(); err != nil {
			return "", fmt.Errorf("sql batch: %w", err)
		}
	}
	return ucs2ToString(r.b[r.pos:]), nil
}
