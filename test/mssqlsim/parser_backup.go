package mssqlsim

import (
	"fmt"
	"strings"
)

// deviceList parses `DISK = x [, DISK = y]` or `URL = x`.
func (p *parser) deviceList() ([]expr, bool, error) {
	var out []expr
	url := false
	for {
		switch {
		case p.accept("DISK"):
		case p.accept("URL"):
			url = true
		default:
			return nil, false, fmt.Errorf("expected DISK = or URL =")
		}
		if err := p.expectOp("="); err != nil {
			return nil, false, err
		}
		x, err := p.primary()
		if err != nil {
			return nil, false, err
		}
		out = append(out, x)
		if !p.acceptOp(",") {
			return out, url, nil
		}
	}
}

func (p *parser) backupStmt(start int) (stmt, error) {
	s := &backupStmt{}
	switch {
	case p.accept("DATABASE"):
	case p.accept("LOG"):
		s.Log = true
	default:
		return nil, fmt.Errorf("only BACKUP DATABASE and BACKUP LOG are supported")
	}
	var err error
	if s.DB, err = p.nameOrParam(); err != nil {
		return nil, err
	}
	if err := p.expect("TO"); err != nil {
		return nil, err
	}
	if s.Disks, s.URL, err = p.deviceList(); err != nil {
		return nil, err
	}
	if p.accept("WITH") {
		for {
			opt := strings.ToUpper(p.next().Text)
			switch opt {
			case "COMPRESSION":
				s.Opts.Compression = true
			case "NO_COMPRESSION":
				s.Opts.NoCompression = true
			case "CHECKSUM":
				s.Opts.Checksum = true
			case "NO_CHECKSUM", "NOINIT", "NOFORMAT", "NOSKIP", "SKIP", "NOREWIND", "NOUNLOAD", "REWIND", "UNLOAD", "CONTINUE_AFTER_ERROR", "STOP_ON_ERROR", "NO_TRUNCATE":
			case "INIT":
				s.Opts.Init = true
			case "FORMAT":
				s.Opts.Format, s.Opts.Init = true, true
			case "COPY_ONLY":
				s.Opts.CopyOnly = true
			case "NORECOVERY":
				s.Opts.NoRecovery = true
			case "STATS":
				if p.acceptOp("=") {
					if _, err := p.primary(); err != nil {
						return nil, err
					}
				}
			case "NAME", "DESCRIPTION", "MEDIANAME", "MEDIADESCRIPTION":
				if err := p.expectOp("="); err != nil {
					return nil, err
				}
				x, err := p.primary()
				if err != nil {
					return nil, err
				}
				if opt == "NAME" {
					s.Opts.Name = x
				} else if opt == "DESCRIPTION" {
					s.Opts.Description = x
				}
			default:
				return nil, fmt.Errorf("BACKUP option %s is not supported", opt)
			}
			if !p.acceptOp(",") {
				break
			}
		}
	}
	s.stmtText = p.textSince(start)
	return s, nil
}

func (p *parser) restoreStmt(start int) (stmt, error) {
	s := &restoreStmt{}
	kw := strings.ToUpper(p.next().Text)
	s.Kind = kw
	var err error
	switch kw {
	case "DATABASE", "LOG":
		if s.DB, err = p.nameOrParam(); err != nil {
			return nil, err
		}
		if p.accept("FROM") {
			if s.From, s.URL, err = p.deviceList(); err != nil {
				return nil, err
			}
		} else if kw == "LOG" {
			return nil, fmt.Errorf("RESTORE LOG requires FROM")
		}
	case "HEADERONLY", "FILELISTONLY", "VERIFYONLY":
		if err := p.expect("FROM"); err != nil {
			return nil, err
		}
		if s.From, s.URL, err = p.deviceList(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("RESTORE %s is not supported", kw)
	}
	if p.accept("WITH") {
		for {
			opt := strings.ToUpper(p.next().Text)
			switch opt {
			case "NORECOVERY":
				s.Opts.NoRecovery = true
			case "RECOVERY":
				s.Opts.Recovery = true
			case "REPLACE":
				s.Opts.Replace = true
			case "CHECKSUM":
				s.Opts.Checksum = true
			case "NO_CHECKSUM", "NOUNLOAD", "UNLOAD", "REWIND", "NOREWIND", "CONTINUE_AFTER_ERROR", "STOP_ON_ERROR", "KEEP_REPLICATION", "KEEP_CDC":
			case "STANDBY":
				if err := p.expectOp("="); err != nil {
					return nil, err
				}
				if s.Opts.Standby, err = p.primary(); err != nil {
					return nil, err
				}
			case "STATS":
				if p.acceptOp("=") {
					if _, err := p.primary(); err != nil {
						return nil, err
					}
				}
			case "FILE":
				if err := p.expectOp("="); err != nil {
					return nil, err
				}
				if s.Opts.File, err = p.primary(); err != nil {
					return nil, err
				}
			case "MOVE":
				logical, err := p.primary()
				if err != nil {
					return nil, err
				}
				if err := p.expect("TO"); err != nil {
					return nil, err
				}
				physical, err := p.primary()
				if err != nil {
					return nil, err
				}
				s.Opts.Moves = append(s.Opts.Moves, moveClause{Logical: logical, Physical: physical})
			default:
				return nil, fmt.Errorf("RESTORE option %s is not supported", opt)
			}
			if !p.acceptOp(",") {
				break
			}
		}
	}
	n := 0
	for _, b := range []bool{s.Opts.NoRecovery, s.Opts.Recovery, s.Opts.Standby != nil} {
		if b {
			n++
		}
	}
	if n > 1 {
		return nil, fmt.Errorf("RECOVERY, NORECOVERY and STANDBY are mutually exclusive")
	}
	s.stmtText = p.textSince(start)
	return s, nil
}

// ---- expressions ----
