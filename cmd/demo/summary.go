package main

import (
	"fmt"
	"strings"
	"time"
)

// Summary is what the demo measured. Its Line is the one line a script checks.
type Summary struct {
	// Unplanned failover after the primary was killed.
	FailoverFrom, FailoverTo string
	SelectorFlip             time.Duration // kill -> Service selects the new primary
	Writable                 time.Duration // kill -> an INSERT succeeds on the new primary
	RowsAcked, RowsPresent   int           // the writer's acknowledged rows; its rows on the new primary
	RowsLost                 int           // acknowledged rows missing on the new primary
	LossBound                int           // rows acknowledged in the last log interval + slack before the kill
	LogInterval              time.Duration
	EstimatedDataLoss        time.Duration // status.lastFailover.estimatedDataLoss

	// Return of the old primary.
	Rejoined    bool   // ds1 became a Standby
	SalvageFile string // status.members[ds1].databases[Sales].salvageFile

	// Planned switchover back.
	SwitchoverFrom, SwitchoverTo string
	SwitchoverTime               time.Duration // request -> Service selects the new primary
	SwitchoverAcked              int
	SwitchoverLost               int
	SwitchoverDone               bool

	// Err is why the demo stopped early (nil when it ran to the end).
	Err error
	// WorkDir is the temporary directory that held every file of the run (removed at the end).
	WorkDir string
}

// lossSlack is added to one log interval for the loss bound: a log backup is taken every
// interval, give or take the reconcile's scheduling and the backup itself.
const lossSlack = 3 * time.Second

// Problems lists the checks that failed; empty means PASS.
func (s *Summary) Problems() []string {
	if s.Err != nil {
		return []string{s.Err.Error()} // the story stopped: what follows was not reached
	}
	var p []string
	if s.FailoverTo != "ds2" {
		p = append(p, "no failover to ds2")
	} else {
		if s.SelectorFlip <= 0 {
			p = append(p, "the Service selector never flipped to ds2")
		}
		if s.Writable <= 0 {
			p = append(p, "ds2 never became writable")
		}
		if s.RowsLost > s.LossBound {
			p = append(p, fmt.Sprintf("lost %d rows, more than the %d written in one log interval + %s", s.RowsLost, s.LossBound, lossSlack))
		}
	}
	if !s.Rejoined {
		p = append(p, "ds1 did not rejoin as a standby")
	}
	if s.SalvageFile == "" {
		p = append(p, "no salvage backup reported for ds1")
	}
	if !s.SwitchoverDone {
		p = append(p, "the switchover back to ds1 did not complete")
	} else if s.SwitchoverLost != 0 {
		p = append(p, fmt.Sprintf("the switchover lost %d rows", s.SwitchoverLost))
	}
	return p
}

// Pass says whether every check passed.
func (s *Summary) Pass() bool { return len(s.Problems()) == 0 }

// Line is the final summary line, e.g.
//
//	DEMO SUMMARY: failover ds1->ds2 selector 3.1s writable 3.2s rows acked 700 present 455 lost 245 (log interval 10s, bound 650); rejoin ds1 salvage=yes; switchover ds2->ds1 rows lost 0; result=PASS
func (s *Summary) Line() string {
	var b strings.Builder
	b.WriteString("DEMO SUMMARY: ")
	if s.FailoverTo == "" {
		b.WriteString("failover none")
	} else {
		fmt.Fprintf(&b, "failover %s->%s selector %s writable %s rows acked %d present %d lost %d (log interval %s, bound %d)",
			s.FailoverFrom, s.FailoverTo, durOrNA(s.SelectorFlip), durOrNA(s.Writable),
			s.RowsAcked, s.RowsPresent, s.RowsLost, s.LogInterval, s.LossBound)
	}
	salvage := "no"
	if s.SalvageFile != "" {
		salvage = "yes"
	}
	if s.Rejoined {
		fmt.Fprintf(&b, "; rejoin ds1 salvage=%s", salvage)
	} else {
		fmt.Fprintf(&b, "; rejoin none salvage=%s", salvage)
	}
	if s.SwitchoverDone {
		fmt.Fprintf(&b, "; switchover %s->%s %s rows acked %d lost %d", s.SwitchoverFrom, s.SwitchoverTo,
			secs(s.SwitchoverTime), s.SwitchoverAcked, s.SwitchoverLost)
	} else {
		b.WriteString("; switchover none")
	}
	if p := s.Problems(); len(p) > 0 {
		fmt.Fprintf(&b, "; failed: %s; result=FAIL", strings.ReplaceAll(strings.Join(p, ", "), "\n", " "))
	} else {
		b.WriteString("; result=PASS")
	}
	return b.String()
}

func durOrNA(d time.Duration) string {
	if d <= 0 {
		return "n/a"
	}
	return secs(d)
}
