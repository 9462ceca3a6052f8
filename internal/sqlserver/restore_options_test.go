package sqlserver

import (
	"fmt"
	"testing"
)

func TestRestoreOptionsWithClause(t *testing.T) {
	tests := []struct {
		name     string
		opts     RestoreOptions
		wantSQL  string
		wantArgs []any
	}{
		{name: "zero value is NORECOVERY", opts: RestoreOptions{}, wantSQL: " WITH NORECOVERY", wantArgs: []any{"/b/f"}},
		{name: "recovery", opts: RestoreOptions{Mode: RestoreRecovery}, wantSQL: " WITH RECOVERY", wantArgs: []any{"/b/f"}},
		{name: "standby undo file is a parameter", opts: RestoreOptions{Mode: RestoreStandby, UndoFile: "/b/u'.tuf", Checksum: true},
			wantSQL: " WITH STANDBY = @p2, CHECKSUM", wantArgs: []any{"/b/f", "/b/u'.tuf"}},
		{name: "replace and moves sorted, as parameters", opts: RestoreOptions{Replace: true, Move: map[string]string{"shop_log": "/d/s.ldf", "shop": "/d/s.mdf"}},
			wantSQL: " WITH NORECOVERY, REPLACE, MOVE @p2 TO @p3, MOVE @p4 TO @p5", wantArgs: []any{"/b/f", "shop", "/d/s.mdf", "shop_log", "/d/s.ldf"}},
		{name: "standby and moves", opts: RestoreOptions{Mode: RestoreStandby, UndoFile: "/u", Move: map[string]string{"x]": "/d/x"}},
			wantSQL: " WITH STANDBY = @p2, MOVE @p3 TO @p4", wantArgs: []any{"/b/f", "/u", "x]", "/d/x"}},
		{name: "backup set position is an integer parameter", opts: RestoreOptions{File: 3, Mode: RestoreStandby, UndoFile: "/u"},
			wantSQL: " WITH FILE = @p2, STANDBY = @p3", wantArgs: []any{"/b/f", int64(3), "/u"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.opts.validate(true); err != nil {
				t.Fatal(err)
			}
			sql, args := tc.opts.withClause([]any{"/b/f"})
			if sql != tc.wantSQL || fmt.Sprint(args) != fmt.Sprint(tc.wantArgs) {
				t.Fatalf("withClause = %q %v, want %q %v", sql, args, tc.wantSQL, tc.wantArgs)
			}
		})
	}
}

func TestRestoreOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts RestoreOptions
		full bool
		ok   bool
	}{
		{"standby without undo file", RestoreOptions{Mode: RestoreStandby}, true, false},
		{"undo file without standby", RestoreOptions{UndoFile: "/u"}, true, false},
		{"unknown mode", RestoreOptions{Mode: 7}, true, false},
		{"replace on a log restore", RestoreOptions{Replace: true}, false, false},
		{"move on a log restore", RestoreOptions{Move: map[string]string{"a": "/b"}}, false, false},
		{"move with empty target", RestoreOptions{Move: map[string]string{"a": ""}}, true, false},
		{"move with control character in logical name", RestoreOptions{Move: map[string]string{"a\n": "/b"}}, true, false},
		{"undo file with newline", RestoreOptions{Mode: RestoreStandby, UndoFile: "/u\n"}, true, false},
		{"log restore in standby", RestoreOptions{Mode: RestoreStandby, UndoFile: "/u"}, false, true},
		{"negative backup set", RestoreOptions{File: -1}, false, false},
		{"backup set past smallint", RestoreOptions{File: 32768}, false, false},
		{"backup set 2 of a log file", RestoreOptions{File: 2}, false, true},
		{"full restore with everything", RestoreOptions{Mode: RestoreRecovery, Replace: true, Checksum: true, Move: map[string]string{"a": "/b"}}, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.validate(tc.full)
			if tc.ok != (err == nil) {
				t.Fatalf("validate = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	for m, want := range map[RestoreMode]string{RestoreNoRecovery: "NoRecovery", RestoreStandby: "Standby", RestoreRecovery: "Recovery", 9: "RestoreMode(9)"} {
		if m.String() != want {
			t.Errorf("RestoreMode(%d).String() = %q, want %q", int(m), m.String(), want)
		}
	}
}

func TestBackupOptionsWithClause(t *testing.T) {
	tests := []struct {
		opts BackupOptions
		want string
	}{
		{BackupOptions{}, " WITH INIT"},
		{BackupOptions{Compression: true, Checksum: true}, " WITH INIT, COMPRESSION, CHECKSUM"},
		{BackupOptions{CopyOnly: true}, " WITH INIT, COPY_ONLY"},
		{BackupOptions{NoRecovery: true, Checksum: true}, " WITH INIT, CHECKSUM, NORECOVERY"},
	}
	for _, tc := range tests {
		if got := tc.opts.withClause(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.opts, got, tc.want)
		}
	}
}

func TestValidateDevicePath(t *testing.T) {
	long := make([]rune, 261)
	for i := range long {
		long[i] = 'a'
	}
	tests := []struct {
		path string
		ok   bool
	}{
		{"/backups/x.bak", true},
		{"relative.bak", true},
		{`C:\backups\x.bak`, true},
		{"/b/it's.bak", true}, // sent as a parameter, quotes are harmless
		{"", false},
		{"/b/x\x00.bak", false},
		{"/b/x\n.bak", false},
		{string(long), false},
	}
	for _, tc := range tests {
		if err := validateDevicePath(tc.path); tc.ok != (err == nil) {
			t.Errorf("validateDevicePath(%q) = %v, want ok=%v", tc.path, err, tc.ok)
		}
	}
}

func TestPlanMoves(t *testing.T) {
	linux := DefaultPaths{Data: "/var/opt/mssql/data/", Log: "/var/opt/mssql/log"}
	windows := DefaultPaths{Data: `D:\Data\`, Log: `L:\Log`}
	tests := []struct {
		name    string
		dirs    DefaultPaths
		files   []BackupFileEntry
		want    map[string]string
		wantErr bool
	}{
		{name: "data and log", dirs: linux,
			files: []BackupFileEntry{{LogicalName: "shop", Type: "D"}, {LogicalName: "shop_log", Type: "L"}},
			want:  map[string]string{"shop": "/var/opt/mssql/data/app.mdf", "shop_log": "/var/opt/mssql/log/app_log.ldf"}},
		{name: "secondary files", dirs: linux,
			files: []BackupFileEntry{{LogicalName: "p", Type: "D"}, {LogicalName: "extra", Type: "D"}, {LogicalName: "l", Type: "L"}, {LogicalName: "l2", Type: "L"}},
			want: map[string]string{"p": "/var/opt/mssql/data/app.mdf", "extra": "/var/opt/mssql/data/app_extra.ndf",
				"l": "/var/opt/mssql/log/app_log.ldf", "l2": "/var/opt/mssql/log/app_l2.ldf"}},
		{name: "windows separators", dirs: windows,
			files: []BackupFileEntry{{LogicalName: "shop", Type: "D"}, {LogicalName: "shop_log", Type: "L"}},
			want:  map[string]string{"shop": `D:\Data\app.mdf`, "shop_log": `L:\Log\app_log.ldf`}},
		{name: "no files", dirs: linux, wantErr: true},
		{name: "filestream unsupported", dirs: linux, files: []BackupFileEntry{{LogicalName: "fs", Type: "S"}}, wantErr: true},
		{name: "logical name with a separator", dirs: linux,
			files: []BackupFileEntry{{LogicalName: "p", Type: "D"}, {LogicalName: "../x", Type: "D"}}, wantErr: true},
		{name: "collision", dirs: DefaultPaths{Data: "/d", Log: "/d"},
			files: []BackupFileEntry{{LogicalName: "p", Type: "D"}, {LogicalName: "log", Type: "D"}, {LogicalName: "l", Type: "L"}, {LogicalName: "LOG", Type: "L"}}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := planMoves("app", tc.dirs, tc.files)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("planMoves = %v, want an error", got)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("planMoves = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
