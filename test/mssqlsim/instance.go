package mssqlsim

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// backupSetRow mirrors msdb.dbo.backupset.
type backupSetRow struct {
	BackupSetID       int       `json:"backupSetId"`
	MediaSetID        int       `json:"mediaSetId"`
	Name              string    `json:"name,omitzero"`
	DatabaseName      string    `json:"databaseName"`
	Type              string    `json:"type"` // D or L
	FirstLSN          LSN       `json:"firstLsn"`
	LastLSN           LSN       `json:"lastLsn"`
	CheckpointLSN     LSN       `json:"checkpointLsn"`
	DatabaseBackupLSN LSN       `json:"databaseBackupLsn"`
	StartDate         time.Time `json:"startDate"`
	FinishDate        time.Time `json:"finishDate"`
	// TimeZoneOffset is the writer's UTC offset in seconds when the backup started (time_zone).
	TimeZoneOffset int    `json:"timeZoneOffset,omitzero"`
	IsCopyOnly     bool   `json:"isCopyOnly"`
	ServerName     string `json:"serverName"`
	RecoveryModel  string `json:"recoveryModel"`
	BackupSize     int64  `json:"backupSize"`
	CompressedSize int64  `json:"compressedSize"`
	HasChecksums   bool   `json:"hasChecksums"`
	IsForceOffline bool   `json:"isForceOffline"`
	FamilyGUID     string `json:"familyGuid"`
	UserName       string `json:"userName"`
	// Position is the set's number in its media (RESTORE ... WITH FILE = n).
	Position int `json:"position,omitzero"`
	// FirstForkGUID, LastForkGUID and ForkPointLSN are first_recovery_fork_guid,
	// last_recovery_fork_guid and fork_point_lsn.
	FirstForkGUID string `json:"firstForkGuid,omitzero"`
	LastForkGUID  string `json:"lastForkGuid,omitzero"`
	ForkPointLSN  LSN    `json:"forkPointLsn,omitzero"`
}

// mediaFamilyRow mirrors msdb.dbo.backupmediafamily.
type mediaFamilyRow struct {
	MediaSetID         int    `json:"mediaSetId"`
	FamilySequence     int    `json:"familySequence"`
	PhysicalDeviceName string `json:"physicalDeviceName"`
	DeviceType         int    `json:"deviceType"`
}

// restoreHistoryRow mirrors msdb.dbo.restorehistory.
type restoreHistoryRow struct {
	RestoreHistoryID        int       `json:"restoreHistoryId"`
	RestoreDate             time.Time `json:"restoreDate"`
	DestinationDatabaseName string    `json:"destinationDatabaseName"`
	UserName                string    `json:"userName"`
	BackupSetID             int       `json:"backupSetId"`
	RestoreType             string    `json:"restoreType"` // D or L
	Replace                 bool      `json:"replace"`
	Recovery                bool      `json:"recovery"`
}

// instanceState is the persisted instance (instance.json).
type instanceState struct {
	Version         int                 `json:"version"`
	NextDBID        int                 `json:"nextDbId"`
	NextPrincipalID int                 `json:"nextPrincipalId"`
	Databases       []dbMeta            `json:"databases"`
	Logins          []loginRecord       `json:"logins"`
	BackupSets      []backupSetRow      `json:"backupSets"`
	MediaFamilies   []mediaFamilyRow    `json:"mediaFamilies"`
	RestoreHistory  []restoreHistoryRow `json:"restoreHistory"`
}

// instance is the in-memory SQL Server instance. mu guards everything,
// including the session registry; statements run one at a time.
type instance struct {
	mu         sync.Mutex
	store      *storage
	serverName string
	version    string
	edition    edition
	location   *time.Location // Options.TimeZone
	dataPath   string
	backupPath string
	startTime  time.Time

	nextDBID        int
	nextPrincipalID int
	dbs             map[string]*database // lower-case name
	logins          map[string]*loginRecord
	backupSets      []backupSetRow
	mediaFamilies   []mediaFamilyRow
	restoreHistory  []restoreHistoryRow

	sessions map[int]*session
	nextSPID int
}

func newInstance(store *storage, serverName, version string) *instance {
	return &instance{
		store:      store,
		serverName: serverName,
		version:    version,
		dataPath:   filepath.Join(store.dir, "data"),
		backupPath: filepath.Join(store.dir, "backup"),
		startTime:  time.Now(),
		dbs:        map[string]*database{},
		logins:     map[string]*loginRecord{},
		sessions:   map[int]*session{},
		nextSPID:   51,
		nextDBID:   5,
	}
}

// load restores the instance from storage or initialises a new one with the
// system databases and the sa login.
func (in *instance) load(saPassword string) error {
	for _, dir := range []string{in.dataPath, in.backupPath} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", dir, err)
		}
	}
	st, err := in.store.loadInstance()
	if err != nil {
		return err
	}
	if st == nil {
		in.nextPrincipalID = 256
		for i, name := range []string{"master", "tempdb", "model", "msdb"} {
			rec := recoverySimple
			if name == "model" {
				rec = recoveryFull
			}
			if _, err := in.createDatabaseLocked(name, i+1, rec, true); err != nil {
				return err
			}
		}
		in.logins["sa"] = &loginRecord{PrincipalID: 1, Name: "sa", SID: []byte{1}, PasswordHash: hashPassword(saPassword, nil), DefaultDB: "master", CreateDate: time.Now().UTC(),
			PolicyChecked: true} // as SQL Server sets up sa
		return in.saveLocked()
	}
	in.nextDBID = st.NextDBID
	in.nextPrincipalID = st.NextPrincipalID
	for _, m := range st.Databases {
		d := newDatabase(m)
		recs, err := in.store.readLog(m.ID, m.LogGeneration)
		if err != nil {
			return err
		}
		if err := d.rebuild(recs); err != nil {
			return err
		}
		// A crash between applying a log restore and saving the metadata
		// leaves the records ahead of RedoLSN; the log end is authoritative.
		if (d.State == stateRestoring || d.Standby) && d.RedoLSN.Cmp(d.EndLSN) < 0 {
			d.RedoLSN = d.EndLSN
		}
		in.dbs[strings.ToLower(m.Name)] = d
	}
	for i := range st.Logins {
		l := st.Logins[i]
		in.logins[strings.ToLower(l.Name)] = &l
	}
	in.backupSets = st.BackupSets
	in.mediaFamilies = st.MediaFamilies
	in.restoreHistory = st.RestoreHistory
	if sa := in.logins["sa"]; sa != nil && saPassword != "" && !checkPassword(sa.PasswordHash, saPassword) {
		sa.PasswordHash = hashPassword(saPassword, nil)
		return in.saveLocked()
	}
	return nil
}

// saveLocked persists the instance metadata.
func (in *instance) saveLocked() error {
	st := &instanceState{
		Version:         1,
		NextDBID:        in.nextDBID,
		NextPrincipalID: in.nextPrincipalID,
		BackupSets:      in.backupSets,
		MediaFamilies:   in.mediaFamilies,
		RestoreHistory:  in.restoreHistory,
	}
	for _, d := range in.sortedDatabases() {
		st.Databases = append(st.Databases, d.dbMeta)
	}
	for _, l := range in.sortedLogins() {
		st.Logins = append(st.Logins, *l)
	}
	if err := in.store.saveInstance(st); err != nil {
		return fmt.Errorf("saving instance state: %w", err)
	}
	return nil
}

func (in *instance) sortedDatabases() []*database {
	out := make([]*database, 0, len(in.dbs))
	for _, d := range in.dbs {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (in *instance) sortedLogins() []*loginRecord {
	out := make([]*loginRecord, 0, len(in.logins))
	for _, l := range in.logins {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PrincipalID < out[j].PrincipalID })
	return out
}

func (in *instance) sortedSessions() []*session {
	out := make([]*session, 0, len(in.sessions))
	for _, s := range in.sessions {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].spid < out[j].spid })
	return out
}

func (in *instance) db(name string) *database { return in.dbs[strings.ToLower(name)] }

func (in *instance) dbByID(id int) *database {
	for _, d := range in.dbs {
		if d.ID == id {
			return d
		}
	}
	return nil
}

// createDatabaseLocked creates and persists an empty database.
func (in *instance) createDatabaseLocked(name string, id int, recovery string, system bool) (*database, error) {
	if id == 0 {
		id = in.nextDBID
		in.nextDBID++
	}
	family := newGUID() // a new database: its family and first fork
	d := newDatabase(dbMeta{
		ID: id, Name: name, FamilyGUID: family, BackupFamilyGUID: family, Recovery: recovery, State: stateOnline,
		UserAccess: accessMulti, CreateDate: time.Now().UTC(), Files: defaultFiles(name, in.dataPath),
		System: system, EndLSN: firstLSN, LogGeneration: 1,
	})
	if err := in.store.writeLog(id, 1, nil); err != nil {
		return nil, err
	}
	in.dbs[strings.ToLower(name)] = d
	if err := in.commitLocked(d, []logRecord{{Op: opCreateDatabase, Table: name}}); err != nil {
		delete(in.dbs, strings.ToLower(name))
		return nil, err
	}
	return d, nil
}

// commitLocked assigns LSNs to records, makes them durable and applies
// them. Records of one commit share a log block; EndLSN moves to the next
// block.
func (in *instance) commitLocked(d *database, recs []logRecord) error {
	if len(recs) == 0 {
		return nil
	}
	lsn := d.EndLSN
	now := time.Now().UTC()
	for i := range recs {
		recs[i].LSN = lsn
		if recs[i].Time.IsZero() {
			recs[i].Time = now
		}
		lsn = lsn.nextSlot()
	}
	if err := in.store.appendRecords(d.ID, d.LogGeneration, recs); err != nil {
		return fmt.Errorf("writing log of database %s: %w", d.Name, err)
	}
	for _, r := range recs {
		if err := d.apply(r); err != nil {
			return err
		}
		d.records = append(d.records, r)
	}
	d.EndLSN = recs[len(recs)-1].LSN.nextBlock()
	return nil
}

// usersOf returns the sessions other than self that hold a lock on d: their current database, or
// one their open transaction wrote to (locks.go).
func (in *instance) usersOf(d *database, self *session) []*session {
	var out []*session
	for _, s := range in.sortedSessions() {
		if s != self && s.usesDatabase(d) {
			out = append(out, s)
		}
	}
	return out
}

// killLocked terminates a session the way KILL or ROLLBACK IMMEDIATE does:
// the connection is closed and the session leaves the registry at once.
func (in *instance) killLocked(s *session) {
	delete(in.sessions, s.spid)
	s.kill()
}

func (in *instance) nextBackupSetID() int {
	id := 1
	for _, b := range in.backupSets {
		id = max(id, b.BackupSetID+1)
	}
	return id
}

func (in *instance) nextMediaSetID() int {
	id := 1
	for _, m := range in.mediaFamilies {
		id = max(id, m.MediaSetID+1)
	}
	return id
}
