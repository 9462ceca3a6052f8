package mssqlsim

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Recovery models and database states as shown in sys.databases.
const (
	recoveryFull       = "FULL"
	recoverySimple     = "SIMPLE"
	recoveryBulkLogged = "BULK_LOGGED"

	stateOnline    = "ONLINE"
	stateRestoring = "RESTORING"
	stateOffline   = "OFFLINE"

	accessMulti      = "MULTI_USER"
	accessSingle     = "SINGLE_USER"
	accessRestricted = "RESTRICTED_USER"
)

// firstLSN is where the log of a newly created database starts.
var firstLSN = LSN{VLF: 37, Block: 16, Slot: 1}

// dbFile is a database file as listed by sys.master_files and RESTORE
// FILELISTONLY. Physical names are metadata only: the simulator keeps the
// data in its own data directory.
type dbFile struct {
	FileID       int    `json:"fileId"`
	LogicalName  string `json:"logicalName"`
	PhysicalName string `json:"physicalName"`
	Type         string `json:"type"` // ROWS or LOG
	SizePages    int64  `json:"sizePages"`
}

// dbMeta is the persisted description of a database (everything except its
// log records).
type dbMeta struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	// FamilyGUID is the current recovery fork (recovery_fork_guid); the
	// name is historical. BackupFamilyGUID is family_guid: set when the
	// database is created and kept by every restore and recovery, so all
	// forks of one database share it (see family).
	FamilyGUID       string `json:"familyGuid"`
	BackupFamilyGUID string `json:"backupFamilyGuid,omitzero"`
	// ForkParentGUID and ForkPointLSN describe where the current recovery
	// fork (FamilyGUID) branched off: RESTORE ... WITH RECOVERY at
	// ForkPointLSN of fork ForkParentGUID. A database still restoring on
	// the parent fork, at or before the fork point, can take the new
	// fork's log backups (log shipping role reversal).
	ForkParentGUID string `json:"forkParentGuid,omitzero"`
	ForkPointLSN   LSN    `json:"forkPointLsn,omitzero"`
	Recovery       string `json:"recovery"`
	State          string `json:"state"`
	Standby        bool   `json:"standby,omitzero"`
	// StandbyFile is the undo file named by RESTORE ... WITH STANDBY.
	StandbyFile string    `json:"standbyFile,omitzero"`
	ReadOnly    bool      `json:"readOnly,omitzero"`
	UserAccess  string    `json:"userAccess"`
	CreateDate  time.Time `json:"createDate"`
	Files       []dbFile  `json:"files"`
	System      bool      `json:"system,omitzero"`
	// EndLSN is the LSN the next log record will get.
	EndLSN LSN `json:"endLsn"`
	// LastCheckpointLSN is the LSN of the most recent checkpoint record.
	LastCheckpointLSN LSN `json:"lastCheckpointLsn,omitzero"`
	// LastFullCheckpointLSN is the checkpoint LSN of the last full
	// (non-copy-only) backup: the DatabaseBackupLSN of later backups.
	LastFullCheckpointLSN LSN `json:"lastFullCheckpointLsn,omitzero"`
	// LogChainStart is set once a full backup started the log chain in the
	// FULL or BULK_LOGGED recovery model; zero means BACKUP LOG fails 4214.
	LogChainStart LSN `json:"logChainStart,omitzero"`
	// LastLogBackupLSN is sys.database_recovery_status.last_log_backup_lsn.
	LastLogBackupLSN LSN `json:"lastLogBackupLsn,omitzero"`
	// RedoLSN is the redo start point of a database in a restore sequence.
	RedoLSN LSN `json:"redoLsn,omitzero"`
	// LogGeneration names the file holding the log records.
	LogGeneration int `json:"logGeneration"`
	// OwnerSID is sys.databases.owner_sid: the login that created or restored the database, or
	// the one ALTER AUTHORIZATION named (db_owner.go). Empty is sa (0x01).
	OwnerSID []byte `json:"ownerSid,omitzero"`
	// Trustworthy is is_trustworthy_on; a restore always turns it off.
	Trustworthy bool `json:"trustworthy,omitzero"`
}

// family is family_guid. State written before the simulator kept it apart
// from the recovery fork has only the fork: use it.
func (m *dbMeta) family() string {
	if m.BackupFamilyGUID != "" {
		return m.BackupFamilyGUID
	}
	return m.FamilyGUID
}

// logRecord is one entry of a database log. Every committed write is a log
// record, so backups and restores move real data.
type logRecord struct {
	LSN   LSN         `json:"lsn"`
	Op    string      `json:"op"`
	Table string      `json:"table,omitzero"`
	Cols  []columnDef `json:"cols,omitzero"`
	RowID int64       `json:"rowid,omitzero"`
	Vals  []Value     `json:"vals,omitzero"`
	Time  time.Time   `json:"time,omitzero"`
	// Principal is the change of a database user (db_users.go).
	Principal *principalChange `json:"principal,omitzero"`
}

// Log record operations.
const (
	opCreateDatabase = "create_database"
	opCreateTable    = "create_table"
	opDropTable      = "drop_table"
	opInsert         = "insert"
	opUpdate         = "update"
	opDelete         = "delete"
	opCheckpoint     = "checkpoint"
	opLogBackup      = "log_backup"
)

type tableRow struct {
	ID   int64
	Vals []Value
}

// table is a user table rebuilt from the log.
type table struct {
	Name      string
	Cols      []columnDef
	Rows      []tableRow
	NextRowID int64
	// Identity is the last identity value handed out.
	Identity    int64
	HasIdentity bool
	Created     time.Time
	ObjectID    int64
}

func (t *table) colIndex(name string) int {
	for i, c := range t.Cols {
		if strings.EqualFold(c.Name, name) {
			return i
		}
	}
	return -1
}

func (t *table) rowIndex(id int64) int {
	i := sort.Search(len(t.Rows), func(i int) bool { return t.Rows[i].ID >= id })
	if i < len(t.Rows) && t.Rows[i].ID == id {
		return i
	}
	return -1
}

// database is a database with its log and the table state derived from it.
type database struct {
	dbMeta
	records []logRecord
	tables  map[string]*table
	// users are the database users rebuilt from the log (db_users.go).
	users map[string]*dbUser
}

func newDatabase(meta dbMeta) *database {
	return &database{dbMeta: meta, tables: map[string]*table{}}
}

// apply replays one log record onto the table state.
func (d *database) apply(r logRecord) error {
	key := strings.ToLower(r.Table)
	if r.Principal != nil {
		return d.applyPrincipal(r)
	}
	switch r.Op {
	case opCreateDatabase, opCheckpoint, opLogBackup:
		if r.Op == opCheckpoint {
			d.LastCheckpointLSN = r.LSN
		}
		return nil
	case opCreateTable:
		t := &table{Name: r.Table, Cols: r.Cols, NextRowID: 1, Created: r.Time, ObjectID: int64(r.LSN.Block)*100 + int64(r.LSN.Slot)}
		for _, c := range r.Cols {
			if c.Identity {
				t.HasIdentity = true
				t.Identity = c.Seed - c.Increment
			}
		}
		d.tables[key] = t
		return nil
	case opDropTable:
		delete(d.tables, key)
		return nil
	}
	t := d.tables[key]
	if t == nil {
		return fmt.Errorf("log record %s at LSN %s references missing table %q", r.Op, r.LSN, r.Table)
	}
	switch r.Op {
	case opInsert:
		if len(r.Vals) != len(t.Cols) {
			return fmt.Errorf("insert record at LSN %s has %d values for %d columns", r.LSN, len(r.Vals), len(t.Cols))
		}
		if i := t.rowIndex(r.RowID); i >= 0 {
			t.Rows[i].Vals = r.Vals // replayed record: idempotent
			break
		}
		t.Rows = append(t.Rows, tableRow{ID: r.RowID, Vals: r.Vals})
		if n := len(t.Rows); n > 1 && t.Rows[n-2].ID > r.RowID {
			sort.SliceStable(t.Rows, func(i, j int) bool { return t.Rows[i].ID < t.Rows[j].ID })
		}
		if r.RowID >= t.NextRowID {
			t.NextRowID = r.RowID + 1
		}
		for i, c := range t.Cols {
			if c.Identity && r.Vals[i].K == KindInt {
				if (c.Increment > 0 && r.Vals[i].I > t.Identity) || (c.Increment < 0 && r.Vals[i].I < t.Identity) {
					t.Identity = r.Vals[i].I
				}
			}
		}
	case opUpdate:
		if i := t.rowIndex(r.RowID); i >= 0 {
			t.Rows[i].Vals = r.Vals
		}
	case opDelete:
		if i := t.rowIndex(r.RowID); i >= 0 {
			t.Rows = append(t.Rows[:i], t.Rows[i+1:]...)
		}
	default:
		return fmt.Errorf("unknown log record op %q at LSN %s", r.Op, r.LSN)
	}
	return nil
}

// rebuild resets the table state and replays records.
func (d *database) rebuild(records []logRecord) error {
	d.records = nil
	d.tables = map[string]*table{}
	d.users = nil
	for _, r := range records {
		if err := d.apply(r); err != nil {
			return fmt.Errorf("database %s: %w", d.Name, err)
		}
		d.records = append(d.records, r)
	}
	if n := len(d.records); n > 0 {
		if end := d.records[n-1].LSN.nextBlock(); end.Cmp(d.EndLSN) > 0 {
			d.EndLSN = end
		}
	}
	if d.EndLSN.IsZero() {
		d.EndLSN = firstLSN
	}
	return nil
}

// recordsBetween returns the records with from <= LSN < to.
func (d *database) recordsBetween(from, to LSN) []logRecord {
	var out []logRecord
	for _, r := range d.records {
		if r.LSN.Cmp(from) >= 0 && r.LSN.Cmp(to) < 0 {
			out = append(out, r)
		}
	}
	return out
}

func (d *database) isRestoring() bool { return d.State == stateRestoring }

func (d *database) stateCode() int64 {
	switch d.State {
	case stateRestoring:
		return 1
	case stateOffline:
		return 6
	}
	return 0
}

func (d *database) writable() bool { return d.State == stateOnline && !d.ReadOnly && !d.Standby }

func (d *database) tableNames() []string {
	names := make([]string, 0, len(d.tables))
	for _, t := range d.tables {
		names = append(names, t.Name)
	}
	sort.Strings(names)
	return names
}

func defaultFiles(name, dataPath string) []dbFile {
	return []dbFile{
		{FileID: 1, LogicalName: name, PhysicalName: dataPath + "/" + name + ".mdf", Type: "ROWS", SizePages: 1024},
		{FileID: 2, LogicalName: name + "_log", PhysicalName: dataPath + "/" + name + "_log.ldf", Type: "LOG", SizePages: 1024},
	}
}
