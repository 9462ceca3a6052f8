package v1alpha1

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The API server refuses what the operator cannot use (schema patterns, bounds and CEL rules in
// this package's markers). The functions below check the same things again in Go, at the start of
// every reconcile, for objects that reached etcd without those rules (stored before a rule existed,
// or written around it): such an object is reported InvalidSpec and nothing is done for it, while
// every other object carries on. Test cases in test/envtest run the same bad manifests through both.

// durationBound is one duration field's range.
type durationBound struct {
	min, max time.Duration
}

var (
	boundMaxDataLoss   = durationBound{0, 168 * time.Hour}
	boundLogInterval   = durationBound{10 * time.Second, 24 * time.Hour}
	boundStatement     = durationBound{time.Second, 10 * time.Minute}
	boundBackupRestore = durationBound{time.Minute, 72 * time.Hour}
	boundRetention     = durationBound{time.Hour, 87600 * time.Hour}
	boundInterval      = durationBound{10 * time.Second, 24 * time.Hour}
	boundOffset        = durationBound{0, 24 * time.Hour}
	boundRestoreDelay  = durationBound{0, 168 * time.Hour}
)

func checkDuration(p *field.Path, d Duration, b durationBound) field.ErrorList {
	if err := d.Err(); err != nil {
		return field.ErrorList{field.Invalid(p, d.String(), err.Error())}
	}
	if d.Duration < b.min || d.Duration > b.max {
		return field.ErrorList{field.Invalid(p, d.String(), fmt.Sprintf("must be between %s and %s", b.min, b.max))}
	}
	return nil
}

// checkOptionalDuration is checkDuration for a field whose zero value (unset or 0s) means its
// default.
func checkOptionalDuration(p *field.Path, d Duration, b durationBound) field.ErrorList {
	if d.Err() == nil && d.Duration == 0 {
		return nil
	}
	return checkDuration(p, d, b)
}

var (
	memberNamePattern   = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	databaseNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_@$#-]*$`)
	systemDatabases     = map[string]bool{"master": true, "model": true, "msdb": true, "tempdb": true, "mssqlsystemresource": true, "distribution": true}
)

// Validate reports every part of the group's spec the operator cannot use, each naming its field.
func (g *FailoverGroup) Validate() error {
	if err := g.Spec.DecodeError(); err != nil {
		return err
	}
	var errs field.ErrorList
	if len(g.Name) > 63 {
		errs = append(errs, field.TooLong(field.NewPath("metadata", "name"), g.Name, 63))
	}
	spec := field.NewPath("spec")
	errs = append(errs, validateMembers(spec.Child("members"), g.Spec.Members)...)
	errs = append(errs, validateHealthCheck(spec.Child("healthCheck"), &g.Spec.HealthCheck, &g.Spec.Failover)...)
	if md := g.Spec.Failover.MaxDataLoss; md != nil {
		p := spec.Child("failover", "maxDataLoss")
		errs = append(errs, checkDuration(p, *md, boundMaxDataLoss)...)
		if g.Spec.SQLServer == nil {
			errs = append(errs, field.Forbidden(p, "applies only to SQL Server groups (spec.sqlServer)"))
		}
		if ls := g.Spec.LogShipping; ls != nil && md.Err() == nil && md.Duration != 0 && ls.LogBackupInterval.Err() == nil && md.Duration < ls.LogBackupInterval.Duration {
			errs = append(errs, field.Invalid(p, md.String(), "must be 0s (never lose shipped data) or at least logShipping.logBackupInterval"))
		}
	}
	if sql := g.Spec.SQLServer; sql != nil {
		errs = append(errs, validateDatabases(spec.Child("sqlServer", "databases"), sql.Databases, true)...)
		errs = append(errs, checkOptionalDuration(spec.Child("sqlServer", "statementTimeout"), sql.StatementTimeout, boundStatement)...)
		errs = append(errs, checkOptionalDuration(spec.Child("sqlServer", "backupRestoreTimeout"), sql.BackupRestoreTimeout, boundBackupRestore)...)
	}
	if ls := g.Spec.LogShipping; ls != nil {
		if g.Spec.SQLServer == nil {
			errs = append(errs, field.Forbidden(spec.Child("logShipping"), "requires spec.sqlServer"))
		}
		errs = append(errs, checkDuration(spec.Child("logShipping", "logBackupInterval"), ls.LogBackupInterval, boundLogInterval)...)
	}
	return errs.ToAggregate()
}

func validateMembers(p *field.Path, members []Member) field.ErrorList {
	var errs field.ErrorList
	if len(members) < 2 || len(members) > 8 {
		errs = append(errs, field.Invalid(p, len(members), "a group needs 2 to 8 members"))
	}
	seen := map[string]bool{}
	anyPriority := false
	for i, m := range members {
		mp := p.Index(i)
		if !memberNamePattern.MatchString(m.Name) || len(m.Name) > 63 {
			errs = append(errs, field.Invalid(mp.Child("name"), m.Name, "must be a DNS label"))
		}
		if seen[m.Name] {
			errs = append(errs, field.Duplicate(mp.Child("name"), m.Name))
		}
		seen[m.Name] = true
		if m.Priority < 0 || m.Priority > 1000 {
			errs = append(errs, field.Invalid(mp.Child("priority"), m.Priority, "must be between 0 and 1000"))
		}
		anyPriority = anyPriority || m.Priority > 0
		if m.PodSelector == nil && m.Address == nil {
			errs = append(errs, field.Required(mp, "a member needs a podSelector or an address"))
		}
		if s := m.PodSelector; s != nil {
			if len(s.MatchExpressions) > 0 || len(s.MatchLabels) == 0 {
				errs = append(errs, field.Invalid(mp.Child("podSelector"), "", "must have matchLabels and no matchExpressions"))
			}
			for k := range s.MatchLabels {
				if k == LabelRole || k == LabelGroup || k == LabelMember {
					errs = append(errs, field.Invalid(mp.Child("podSelector", "matchLabels"), k, "must not use the labels the operator sets (understudy.dev/role, group, member)"))
				}
			}
		}
		if a := m.Address; a != nil && forbiddenHost(a.Host) {
			errs = append(errs, field.Invalid(mp.Child("address", "host"), a.Host, "must not be a link-local, cloud metadata or unspecified address"))
		}
		for j := 0; j < i; j++ {
			o := members[j]
			if selectorWithin(o.PodSelector, m.PodSelector) || selectorWithin(m.PodSelector, o.PodSelector) {
				errs = append(errs, field.Invalid(mp.Child("podSelector"), "", fmt.Sprintf("overlaps member %s's podSelector: the same pods would be selected for both", o.Name)))
			}
			if m.Address != nil && o.Address != nil && strings.EqualFold(m.Address.Host, o.Address.Host) && m.Address.Port == o.Address.Port {
				errs = append(errs, field.Duplicate(mp.Child("address"), m.Address.Host))
			}
		}
	}
	if len(members) > 0 && !anyPriority {
		errs = append(errs, field.Invalid(p, "", "at least one member needs a priority above 0"))
	}
	return errs
}

// selectorWithin reports whether every label a requires is required the same way by b: then every
// pod b selects, a selects too.
func selectorWithin(a, b *metav1.LabelSelector) bool {
	if a == nil || b == nil {
		return false
	}
	al, bl := a.MatchLabels, b.MatchLabels
	if len(al) == 0 {
		return false
	}
	for k, v := range al {
		if w, ok := bl[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func forbiddenHost(h string) bool {
	l := strings.ToLower(h)
	return strings.HasPrefix(l, "169.254.") || strings.HasPrefix(l, "fe80:") || strings.HasPrefix(l, "fd00:ec2::") ||
		l == "metadata.google.internal" || l == "metadata" || strings.HasPrefix(l, "0.") || l == "::" || l == "0.0.0.0"
}

func validateHealthCheck(p *field.Path, h *HealthCheck, f *FailoverPolicy) field.ErrorList {
	var errs field.ErrorList
	kinds := 0
	for _, set := range []bool{h.TCP != nil, h.HTTP != nil, h.SQLServer != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		errs = append(errs, field.Invalid(p, kinds, "needs exactly one of tcp, http or sqlServer"))
	}
	if h.PeriodSeconds < 1 || h.PeriodSeconds > 300 {
		errs = append(errs, field.Invalid(p.Child("periodSeconds"), h.PeriodSeconds, "must be between 1 and 300"))
	}
	if h.TimeoutSeconds < 1 || h.TimeoutSeconds > h.PeriodSeconds {
		errs = append(errs, field.Invalid(p.Child("timeoutSeconds"), h.TimeoutSeconds, "must be at least 1 and not exceed periodSeconds"))
	}
	if h.FailureThreshold < 1 || h.FailureThreshold > 100 {
		errs = append(errs, field.Invalid(p.Child("failureThreshold"), h.FailureThreshold, "must be between 1 and 100"))
	}
	if h.SuccessThreshold < 1 || h.SuccessThreshold > 100 {
		errs = append(errs, field.Invalid(p.Child("successThreshold"), h.SuccessThreshold, "must be between 1 and 100"))
	}
	lp := field.NewPath("spec", "failover", "leaseDurationSeconds")
	if f.LeaseDurationSeconds < 1 || f.LeaseDurationSeconds > 3600 {
		errs = append(errs, field.Invalid(lp, f.LeaseDurationSeconds, "must be between 1 and 3600"))
	} else if int64(f.LeaseDurationSeconds) < int64(h.PeriodSeconds)*int64(h.FailureThreshold) {
		errs = append(errs, field.Invalid(lp, f.LeaseDurationSeconds, "must be at least healthCheck.periodSeconds x healthCheck.failureThreshold"))
	}
	if f.FailbackDelaySeconds < 0 || f.FailbackDelaySeconds > 86400 {
		errs = append(errs, field.Invalid(field.NewPath("spec", "failover", "failbackDelaySeconds"), f.FailbackDelaySeconds, "must be between 0 and 86400"))
	}
	return errs
}

func validateDatabases(p *field.Path, dbs []DatabaseName, required bool) field.ErrorList {
	var errs field.ErrorList
	if required && (len(dbs) < 1 || len(dbs) > 50) {
		errs = append(errs, field.Invalid(p, len(dbs), "needs 1 to 50 databases"))
	}
	seen := map[string]bool{}
	for i, d := range dbs {
		name := string(d)
		if !databaseNamePattern.MatchString(name) || len(name) > 128 {
			errs = append(errs, field.Invalid(p.Index(i), name, "must be a regular SQL Server identifier of at most 128 characters"))
		}
		if systemDatabases[strings.ToLower(name)] {
			errs = append(errs, field.Invalid(p.Index(i), name, "system databases cannot be shipped or failed over"))
		}
		if seen[strings.ToLower(name)] {
			errs = append(errs, field.Duplicate(p.Index(i), name))
		}
		seen[strings.ToLower(name)] = true
	}
	return errs
}

// forbiddenPathPrefixes are host directories a backup path must never point into.
var forbiddenPathPrefixes = []string{"/proc", "/sys", "/dev", "/etc", "/boot", "/run/secrets", "/var/run/secrets", "/var/lib/kubelet"}

// ValidatePath reports why p cannot be a backup directory, or nil. The same rules are CEL rules on
// BackupTarget.spec.path.
func ValidatePath(p string) error {
	switch {
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf("must be an absolute path")
	case strings.HasPrefix(p, "//"):
		return fmt.Errorf("must not start with // (a UNC path)")
	case strings.ContainsAny(p, ";'\x00\\\r\n\t"):
		return fmt.Errorf("must not contain ; ' \\ or control characters")
	case p == "/" || strings.HasSuffix(p, "/"):
		return fmt.Errorf("must name a directory below /, without a trailing /")
	case len(p) > 1024:
		return fmt.Errorf("must be at most 1024 characters")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("must not contain . or .. segments")
		}
	}
	for _, f := range forbiddenPathPrefixes {
		if p == f || strings.HasPrefix(p, f+"/") {
			return fmt.Errorf("must not be under %s", f)
		}
	}
	return nil
}

// Validate reports every part of the target's spec the operator cannot use, each naming its field.
func (b *BackupTarget) Validate() error {
	if err := b.Spec.DecodeError(); err != nil {
		return err
	}
	var errs field.ErrorList
	spec := field.NewPath("spec")
	switch {
	case b.Spec.URL != "":
		errs = append(errs, field.Forbidden(spec.Child("url"), "object storage is not supported yet: use path"))
	case b.Spec.Path == "":
		errs = append(errs, field.Required(spec.Child("path"), "a backup directory is required"))
	default:
		if err := ValidatePath(b.Spec.Path); err != nil {
			errs = append(errs, field.Invalid(spec.Child("path"), b.Spec.Path, err.Error()))
		}
	}
	errs = append(errs, checkDuration(spec.Child("retention"), b.Spec.Retention, boundRetention)...)
	return errs.ToAggregate()
}

// Validate reports every part of the schedule's spec the operator cannot use, each naming its field.
func (r *RestoreSchedule) Validate() error {
	if err := r.Spec.DecodeError(); err != nil {
		return err
	}
	var errs field.ErrorList
	spec := field.NewPath("spec")
	errs = append(errs, checkDuration(spec.Child("interval"), r.Spec.Interval, boundInterval)...)
	errs = append(errs, checkDuration(spec.Child("offset"), r.Spec.Offset, boundOffset)...)
	errs = append(errs, checkDuration(spec.Child("delay"), r.Spec.Delay, boundRestoreDelay)...)
	if r.Spec.Interval.Err() == nil && r.Spec.Offset.Err() == nil && r.Spec.Offset.Duration >= r.Spec.Interval.Duration {
		errs = append(errs, field.Invalid(spec.Child("offset"), r.Spec.Offset.String(), "must be shorter than interval"))
	}
	for i, m := range r.Spec.Members {
		if !memberNamePattern.MatchString(m) || len(m) > 63 {
			errs = append(errs, field.Invalid(spec.Child("members").Index(i), m, "must be a member name (a DNS label)"))
		}
	}
	errs = append(errs, validateDatabases(spec.Child("databases"), r.Spec.Databases, false)...)
	return errs.ToAggregate()
}
