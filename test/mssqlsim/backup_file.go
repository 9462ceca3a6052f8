package mssqlsim

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Backup media format (simulator specific, documented in docs/mssqlsim.md):
//
//	"MSSQLSIM-BACKUP\n"                        16-byte media header
//	repeated backup sets:
//	  uint32 big-endian payload length
//	  byte flags (bit 0: payload is gzip-compressed)
//	  payload: JSON backupSet (header like RESTORE HEADERONLY + log records)
//
// BACKUP ... WITH INIT/FORMAT starts a new media; otherwise the set is
// appended and gets the next Position, as with SQL Server's NOINIT.
const backupMagic = "MSSQLSIM-BACKUP\n"

const frameCompressed = 0x01

// Backup types as reported by RESTORE HEADERONLY.BackupType.
const (
	backupTypeDatabase = 1
	backupTypeLog      = 2
)

// backupHeader is what RESTORE HEADERONLY returns for a backup set.
type backupHeader struct {
	BackupName        string    `json:"backupName,omitzero"`
	BackupDescription string    `json:"backupDescription,omitzero"`
	BackupType        int       `json:"backupType"`
	Compressed        bool      `json:"compressed"`
	Position          int       `json:"position"`
	UserName          string    `json:"userName"`
	ServerName        string    `json:"serverName"`
	DatabaseName      string    `json:"databaseName"`
	DatabaseCreation  time.Time `json:"databaseCreationDate"`
	BackupSize        int64     `json:"backupSize"`
	FirstLSN          LSN       `json:"firstLsn"`
	LastLSN           LSN       `json:"lastLsn"`
	CheckpointLSN     LSN       `json:"checkpointLsn"`
	DatabaseBackupLSN LSN       `json:"databaseBackupLsn"`
	BackupStartDate   time.Time `json:"backupStartDate"`
	BackupFinishDate  time.Time `json:"backupFinishDate"`
	// TimeZoneOffset is the writing instance's UTC offset in seconds at BackupStartDate: the
	// header's dates are shown in the writer's local time, as SQL Server writes them.
	TimeZoneOffset     int      `json:"timeZoneOffset,omitzero"`
	RecoveryModel      string   `json:"recoveryModel"`
	FamilyGUID         string   `json:"familyGuid"`                // the recovery fork the set ends on (RecoveryForkID)
	BackupFamilyGUID   string   `json:"backupFamilyGuid,omitzero"` // family_guid (FamilyGUID column)
	ForkParentGUID     string   `json:"forkParentGuid,omitzero"`
	ForkPointLSN       LSN      `json:"forkPointLsn,omitzero"`
	BackupSetGUID      string   `json:"backupSetGuid"`
	HasBackupChecksums bool     `json:"hasBackupChecksums"`
	IsCopyOnly         bool     `json:"isCopyOnly"`
	IsForceOffline     bool     `json:"isForceOffline"`
	Files              []dbFile `json:"files"`
}

// family is HEADERONLY's FamilyGUID (backupset.family_guid): the
// database's family, the same on every fork. Sets written before the
// simulator recorded it have only the fork.
func (h backupHeader) family() string {
	if h.BackupFamilyGUID != "" {
		return h.BackupFamilyGUID
	}
	return h.FamilyGUID
}

// firstRecoveryForkID is HEADERONLY's FirstRecoveryForkID (backupset's
// first_recovery_fork_guid): the recovery fork the set starts on. A log
// backup that starts at or before the fork point of the database's current
// fork spans the fork: it starts on the parent fork and ends on the current
// one (RecoveryForkID). Data backups start and end on one fork.
func (h backupHeader) firstRecoveryForkID() string {
	if h.spansFork() {
		return h.ForkParentGUID
	}
	return h.FamilyGUID
}

// forkPointLSN is HEADERONLY's ForkPointLSN: the fork point when the set
// starts on another fork than it ends on, else zero (NULL).
func (h backupHeader) forkPointLSN() LSN {
	if h.spansFork() {
		return h.ForkPointLSN
	}
	return LSN{}
}

func (h backupHeader) spansFork() bool {
	return h.BackupType == backupTypeLog && h.ForkParentGUID != "" && !h.ForkPointLSN.IsZero() && h.FirstLSN.Cmp(h.ForkPointLSN) <= 0
}

func (h backupHeader) typeDesc() string {
	if h.BackupType == backupTypeLog {
		return "Transaction Log"
	}
	return "Database"
}

// backupSet is one backup in a media file.
type backupSet struct {
	Header   backupHeader `json:"header"`
	Records  []logRecord  `json:"records"`
	Checksum string       `json:"checksum,omitzero"`
}

func recordsChecksum(recs []logRecord) (string, error) {
	data, err := encodeRecords(recs)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// errNotMedia marks a file that is not a simulator backup media.
var errNotMedia = errors.New("not an mssqlsim backup media")

// readMedia reads every backup set of a media file. Errors opening the file
// are returned wrapped (callers report 3201); format errors wrap
// errNotMedia (callers report 3241).
func readMedia(path string) ([]backupSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	return decodeMedia(data)
}

func decodeMedia(data []byte) ([]backupSet, error) {
	if !bytes.HasPrefix(data, []byte(backupMagic)) {
		return nil, fmt.Errorf("%w: missing media header", errNotMedia)
	}
	data = data[len(backupMagic):]
	var sets []backupSet
	for len(data) > 0 {
		if len(data) < 5 {
			return nil, fmt.Errorf("%w: truncated frame header", errNotMedia)
		}
		n := int(binary.BigEndian.Uint32(data))
		flags := data[4]
		data = data[5:]
		if n > len(data) {
			return nil, fmt.Errorf("%w: frame of %d bytes exceeds file", errNotMedia, n)
		}
		payload := data[:n]
		data = data[n:]
		if flags&frameCompressed != 0 {
			zr, err := gzip.NewReader(bytes.NewReader(payload))
			if err != nil {
				return nil, fmt.Errorf("%w: %v", errNotMedia, err)
			}
			if payload, err = io.ReadAll(io.LimitReader(zr, maxMessageSize*16)); err != nil {
				return nil, fmt.Errorf("%w: %v", errNotMedia, err)
			}
		}
		var set backupSet
		if err := json.Unmarshal(payload, &set); err != nil {
			return nil, fmt.Errorf("%w: backup set %d: %v", errNotMedia, len(sets)+1, err)
		}
		set.Header.Position = len(sets) + 1
		set.Header.Compressed = flags&frameCompressed != 0
		sets = append(sets, set)
	}
	return sets, nil
}

// writeMedia writes set to path (a new media when init, else appended) and
// fsyncs it. It returns the position of the set and the payload sizes.
func writeMedia(path string, set *backupSet, init, compress bool) (position int, size, compressedSize int64, err error) {
	position = 1
	if !init {
		if existing, rerr := readMedia(path); rerr == nil {
			position = len(existing) + 1
		} else if errors.Is(rerr, errNotMedia) {
			return 0, 0, 0, rerr
		} else if !errors.Is(rerr, os.ErrNotExist) {
			return 0, 0, 0, rerr
		}
	}
	set.Header.Position = position
	set.Header.Compressed = compress
	payload, err := json.Marshal(set)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("encoding backup set: %w", err)
	}
	size = int64(len(payload))
	flags := byte(0)
	if compress {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(payload); err != nil {
			return 0, 0, 0, fmt.Errorf("compressing backup set: %w", err)
		}
		if err := zw.Close(); err != nil {
			return 0, 0, 0, fmt.Errorf("compressing backup set: %w", err)
		}
		payload = buf.Bytes()
		flags |= frameCompressed
	}
	compressedSize = int64(len(payload))
	var frame []byte
	if position == 1 {
		frame = append(frame, backupMagic...)
	}
	frame = binary.BigEndian.AppendUint32(frame, uint32(len(payload)))
	frame = append(frame, flags)
	frame = append(frame, payload...)
	mode := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if position == 1 {
		mode = os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	}
	f, err := os.OpenFile(path, mode, 0o644)
	if err != nil {
		return 0, 0, 0, err
	}
	if _, err := f.Write(frame); err != nil {
		f.Close()
		return 0, 0, 0, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return 0, 0, 0, err
	}
	return position, size, compressedSize, f.Close()
}
