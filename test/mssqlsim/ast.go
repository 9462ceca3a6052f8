package mssqlsim

// Expressions.
type expr interface{}

type (
	exLiteral struct{ V Value }
	exParam   struct{ Name string } // lower-case, without '@'
	exSysVar  struct{ Name string } // upper-case, without '@@'
	exColumn  struct{ Parts []string }
	exUnary   struct {
		Op string // "-", "NOT"
		X  expr
	}
	exBinary struct {
		Op   string // + - * / % = <> < > <= >= AND OR
		L, R expr
	}
	exIsNull struct {
		X   expr
		Not bool
	}
	exIn struct {
		X    expr
		List []expr
		Not  bool
	}
	exLike struct {
		X, Pattern expr
		Not        bool
	}
	exBetween struct {
		X, Lo, Hi expr
		Not       bool
	}
	exFunc struct {
		Name string // upper-case
		Args []expr
		Star bool // COUNT(*)
	}
	exCast struct {
		X expr
		T sqlType
	}
	exCase struct {
		Operand expr
		Whens   []whenClause
		Else    expr
	}
	whenClause struct{ When, Then expr }
	// exExists is EXISTS (SELECT ...); exSubquery is a scalar (SELECT ...).
	// Subqueries are not correlated: they cannot see outer columns.
	exExists   struct{ Sel *selectStmt }
	exSubquery struct{ Sel *selectStmt }
)

// objectName is a multi-part name: [server.][database.][schema.]name.
type objectName struct{ Parts []string }

func (o objectName) name() string { return o.Parts[len(o.Parts)-1] }

func (o objectName) part(fromEnd int) string {
	if len(o.Parts) > fromEnd {
		return o.Parts[len(o.Parts)-1-fromEnd]
	}
	return ""
}

func (o objectName) schema() string   { return o.part(1) }
func (o objectName) database() string { return o.part(2) }

// Statements. Every statement records its source text for messages.
type stmt interface{ source() string }

type stmtText struct{ Text string }

func (s stmtText) source() string { return s.Text }

type (
	selectStmt struct {
		stmtText
		Top      expr
		Distinct bool
		Items    []selectItem
		From     *tableRef
		Joins    []joinClause
		Where    expr
		OrderBy  []orderItem
	}
	selectItem struct {
		X        expr
		Alias    string
		Star     bool
		StarQual string
	}
	tableRef struct {
		Name  objectName
		Alias string
	}
	joinClause struct {
		Left  bool
		Table tableRef
		On    expr
	}
	orderItem struct {
		X    expr
		Desc bool
	}
	insertStmt struct {
		stmtText
		Table   objectName
		Columns []string
		Rows    [][]expr
	}
	updateStmt struct {
		stmtText
		Table objectName
		Sets  []setClause
		Where expr
	}
	setClause struct {
		Column string
		X      expr
	}
	deleteStmt struct {
		stmtText
		Table objectName
		Where expr
	}
	createTableStmt struct {
		stmtText
		Table objectName
		Cols  []columnDef
	}
	dropTableStmt struct {
		stmtText
		Table    objectName
		IfExists bool
	}
	createDatabaseStmt struct {
		stmtText
		Name string
	}
	dropDatabaseStmt struct {
		stmtText
		Name     string
		IfExists bool
	}
	useStmt struct {
		stmtText
		DB string
	}
	backupStmt struct {
		stmtText
		Log   bool
		DB    expr
		Disks []expr
		URL   bool
		Opts  backupOptions
	}
	backupOptions struct {
		Compression, NoCompression, Checksum, Init, Format, CopyOnly, NoRecovery bool
		Name, Description                                                        expr
	}
	restoreStmt struct {
		stmtText
		Kind string // DATABASE, LOG, HEADERONLY, FILELISTONLY, VERIFYONLY
		DB   expr
		From []expr
		URL  bool
		Opts restoreOptions
	}
	restoreOptions struct {
		NoRecovery, Recovery, Replace, Checksum bool
		Standby                                 expr
		Moves                                   []moveClause
		File                                    expr
	}
	moveClause        struct{ Logical, Physical expr }
	alterDatabaseStmt struct {
		stmtText
		DB       string
		Option   string // RECOVERY, SINGLE_USER, MULTI_USER, RESTRICTED_USER, OFFLINE, ONLINE, READ_ONLY, READ_WRITE, TRUSTWORTHY
		Value    string // FULL / SIMPLE / BULK_LOGGED for RECOVERY, ON / OFF for TRUSTWORTHY
		Rollback bool   // WITH ROLLBACK IMMEDIATE
		NoWait   bool
	}
	killStmt struct {
		stmtText
		SPID expr
	}
	createLoginStmt struct {
		stmtText
		Name       string
		Password   expr
		Hashed     bool
		MustChange bool
		SID        expr
		DefaultDB  string
		// CheckPolicy and CheckExpiration are CHECK_POLICY and
		// CHECK_EXPIRATION when given (defaults ON and OFF).
		CheckPolicy, CheckExpiration *bool
	}
	dropLoginStmt struct {
		stmtText
		Name string
	}
	alterLoginStmt struct {
		stmtText
		Name                         string
		Password                     expr
		Hashed                       bool
		Enable                       *bool
		CheckPolicy, CheckExpiration *bool
	}
	beginTranStmt struct{ stmtText }
	commitStmt    struct{ stmtText }
	rollbackStmt  struct{ stmtText }
	waitforStmt   struct {
		stmtText
		Delay expr
	}
	setOptionStmt struct {
		stmtText
		Option string
		On     bool
	}
	checkpointStmt struct{ stmtText }
	// ifStmt is IF cond stmt [ELSE stmt]; a branch may be a BEGIN...END
	// block.
	ifStmt struct {
		stmtText
		Cond       expr
		Then, Else []stmt
	}
	blockStmt struct {
		stmtText
		Stmts []stmt
	}
	execStmt struct {
		stmtText
		Proc string
		Kind procKind
		Args []expr // parsed for the supported procedures only
		// Named is, for sp_delete_backuphistory, the names of Args given as @name = value
		// (lower-case, without @; empty for a positional argument).
		Named []string
	}
)

// procKind is the procedure an EXEC statement runs: the few the simulator implements.
type procKind uint8

const (
	procOther               procKind = iota // not implemented: 2812 at run time
	procCreateSubdir                        // master.sys.xp_create_subdir
	procDeleteBackupHistory                 // msdb.dbo.sp_delete_backuphistory
)

// columnDef is a column of CREATE TABLE.
type columnDef struct {
	Name       string  `json:"name"`
	Type       sqlType `json:"type"`
	Nullable   bool    `json:"nullable"`
	Identity   bool    `json:"identity,omitzero"`
	Seed       int64   `json:"seed,omitzero"`
	Increment  int64   `json:"increment,omitzero"`
	PrimaryKey bool    `json:"pk,omitzero"`
	Default    *Value  `json:"default,omitzero"`
	// DefaultNow marks DEFAULT GETDATE()/SYSDATETIME()/SYSUTCDATETIME()...
	DefaultNow string `json:"defaultNow,omitzero"`
}
