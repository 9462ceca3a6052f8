package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// narrator prints the story: numbered steps, what happens, commands and their output, and
// figures. Every line it prints comes from something the demo observed; it is safe for use from
// several goroutines (the watch prints while the scenario waits).
type narrator struct {
	mu    sync.Mutex
	out   io.Writer
	start time.Time
	step  int
}

func newNarrator(out io.Writer) *narrator {
	return &narrator{out: out, start: time.Now()}
}

// elapsed is the time since the demo started, as printed in step headings.
func (n *narrator) elapsed() string {
	return fmt.Sprintf("%5.1fs", time.Since(n.start).Seconds())
}

// Step starts a new part of the story.
func (n *narrator) Step(format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.step++
	title := fmt.Sprintf(format, args...)
	fmt.Fprintf(n.out, "\n[%s] == %d. %s %s\n", n.elapsed(), n.step, title, strings.Repeat("=", max(3, 70-len(title))))
}

// Say prints one line of narration.
func (n *narrator) Say(format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	fmt.Fprintf(n.out, "[%s] %s\n", n.elapsed(), fmt.Sprintf(format, args...))
}

// Cmd prints a command as a user would type it.
func (n *narrator) Cmd(format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	fmt.Fprintf(n.out, "$ %s\n", fmt.Sprintf(format, args...))
}

// Block prints text (a table, a manifest) as it is.
func (n *narrator) Block(text string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	text = strings.TrimRight(text, "\n")
	if text == "" {
		return
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	fmt.Fprintln(n.out, strings.Join(lines, "\n"))
}

// Figure prints a measured figure, aligned for reading.
func (n *narrator) Figure(name, format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	fmt.Fprintf(n.out, "    %-44s %s\n", name+":", fmt.Sprintf(format, args...))
}

// Line prints a line without a time stamp (the summary).
func (n *narrator) Line(format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	fmt.Fprintf(n.out, format+"\n", args...)
}

// secs formats a duration as seconds with one decimal, as in the summary ("3.1s").
func secs(d time.Duration) string {
	return fmt.Sprintf("%.1fs", d.Seconds())
}
