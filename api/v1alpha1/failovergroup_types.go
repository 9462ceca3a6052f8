package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FailoverGroupSpec is the desired state of an active/passive group.
// +kubebuilder:validation:XValidation:rule="!has(self.healthCheck.sqlServer) || has(self.sqlServer)",message="healthCheck.sqlServer requires spec.sqlServer"
// +kubebuilder:validation:XValidation:rule="!has(self.logShipping) || has(self.sqlServer)",message="logShipping requires spec.sqlServer"
// +kubebuilder:validation:XValidation:rule="!has(self.failover.maxDataLoss) || has(self.sqlServer)",message="failover.maxDataLoss applies only to SQL Server groups (spec.sqlServer)"
// +kubebuilder:validation:XValidation:rule="self.failover.leaseDurationSeconds >= self.healthCheck.periodSeconds * self.healthCheck.failureThreshold",message="failover.leaseDurationSeconds must be at least healthCheck.periodSeconds x healthCheck.failureThreshold (the time it takes to detect a failure)"
// +kubebuilder:validation:XValidation:rule="!has(self.healthCheck.tcp) || has(self.healthCheck.tcp.port) || self.members.all(m, has(m.address) && has(m.address.port))",message="healthCheck.tcp.port is required unless every member has address.port"
// +kubebuilder:validation:XValidation:rule="self.members.exists(m, m.priority > 0)",message="at least one member needs a priority above 0, or no member could ever be made active"
// +kubebuilder:validation:XValidation:rule="!has(self.routing) || !has(self.routing.service) || !has(self.routing.readOnlyService) || self.routing.service.name != self.routing.readOnlyService.name",message="routing.readOnlyService must name a different Service than routing.service"
// +kubebuilder:validation:XValidation:rule="!has(self.failover.maxDataLoss) || !has(self.logShipping) || !self.failover.maxDataLoss.matches('^(0|([0-9]{1,5}([.][0-9]{1,9})?(ns|us|ms|s|m|h))+)$') || !self.logShipping.logBackupInterval.matches('^(0|([0-9]{1,5}([.][0-9]{1,9})?(ns|us|ms|s|m|h))+)$') || duration(self.failover.maxDataLoss) == duration('0s') || duration(self.failover.maxDataLoss) >= duration(self.logShipping.logBackupInterval)",message="failover.maxDataLoss must be 0s (never lose shipped data) or at least logShipping.logBackupInterval: a smaller limit refuses almost every automatic failover"
// +kubebuilder:validation:XValidation:rule="self.members.all(a, self.members.all(b, a.name == b.name || !has(a.address) || !has(b.address) || a.address.host.lowerAscii() != b.address.host.lowerAscii() || (has(a.address.port) ? a.address.port : 0) != (has(b.address.port) ? b.address.port : 0)))",message="two members have the same address (host and port): they would be the same server"
// +kubebuilder:validation:XValidation:rule="!has(self.sqlServer) || self.sqlServer.databases.all(a, self.sqlServer.databases.filter(b, b.lowerAscii() == a.lowerAscii()).size() == 1)",message="sqlServer.databases names must differ in more than case: SQL Server database names are case-insensitive by default"
type FailoverGroupSpec struct {
	// undecodable is set when the stored spec does not fit this type (see DecodeError).
	undecodable undecodable `json:"-"`

	// Members of the group, 2 to 8. Exactly one is active at a time.
	// +kubebuilder:validation:MinItems=2
	// +kubebuilder:validation:MaxItems=8
	// +listType=map
	// +listMapKey=name
	Members []Member `json:"members"`

	// HealthCheck says how members are probed and when a member counts as failed.
	HealthCheck HealthCheck `json:"healthCheck"`

	// Failover is the policy for automatic failover and failback.
	// +kubebuilder:default={}
	// +optional
	Failover FailoverPolicy `json:"failover"`

	// Routing moves clients to the active member: a Service selector and/or ExternalDNS records.
	// +optional
	Routing *Routing `json:"routing,omitempty"`

	// Notifications sends role changes to webhooks, in addition to Kubernetes Events.
	// +optional
	Notifications *Notifications `json:"notifications,omitempty"`

	// SQLServer makes this a SQL Server group: health checks, promotion and log shipping understand
	// databases and LSNs.
	// +optional
	SQLServer *SQLServerSpec `json:"sqlServer,omitempty"`

	// LogShipping ships transaction-log backups from the active member to the standbys.
	// Requires sqlServer.
	// +optional
	LogShipping *LogShippingSpec `json:"logShipping,omitempty"`
}

// Member is one server of the group.
// +kubebuilder:validation:XValidation:rule="has(self.podSelector) || has(self.address)",message="a member needs a podSelector (its pods in this cluster) or an address (an external server)"
type Member struct {
	// Name of the member, a DNS label unique within the group.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// Priority from 0 to 1000; the highest-priority healthy member is preferred. 0 means never made
	// active automatically (a disabled member), though a planned switchover is still refused to it.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	Priority int32 `json:"priority"`

	// PodSelector selects the member's pods by label (matchLabels only, because the routing Service
	// selector is built from it). Used for routing, role labels and pod readiness.
	// +optional
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || size(self.matchExpressions) == 0",message="podSelector supports matchLabels only (the Service selector is built from them)"
	// +kubebuilder:validation:XValidation:rule="has(self.matchLabels) && size(self.matchLabels) > 0",message="podSelector.matchLabels must not be empty"
	// +kubebuilder:validation:XValidation:rule="!has(self.matchLabels) || !('understudy.dev/role' in self.matchLabels || 'understudy.dev/group' in self.matchLabels || 'understudy.dev/member' in self.matchLabels)",message="podSelector must not use the labels the operator sets (understudy.dev/role, understudy.dev/group, understudy.dev/member): understudy.dev/role changes at every failover"
	PodSelector *metav1.LabelSelector `json:"podSelector,omitempty"`

	// Address is where probes and SQL connections go. Required when the member has no pods (an
	// external or offsite server); when set for a member with pods it overrides the pod IP.
	// +optional
	Address *MemberAddress `json:"address,omitempty"`

	// DNSTarget is the hostname (CNAME) or IP address (A/AAAA) that DNS records point to while this
	// member is active.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^([a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*\.?|[0-9a-fA-F:.]+)$`
	DNSTarget string `json:"dnsTarget,omitempty"`
}

// MemberAddress is a host and port.
type MemberAddress struct {
	// Host name or IP address.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9]([-a-zA-Z0-9.:]*[a-zA-Z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="!(self.startsWith('169.254.') || self.lowerAscii().startsWith('fe80:') || self.lowerAscii().startsWith('fd00:ec2::') || self.lowerAscii() == 'metadata.google.internal' || self.lowerAscii() == 'metadata' || self.startsWith('0.') || self == '::' || self == '0.0.0.0')",message="address.host must not be a link-local, cloud metadata or unspecified address: the operator sends the SQL Server credentials to members"
	Host string `json:"host"`

	// Port; when empty, the health check's port (or spec.sqlServer.port) is used.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port,omitempty"`
}

// HealthCheck chooses exactly one kind of probe and the thresholds that turn probe results into a
// member's health.
// +kubebuilder:validation:XValidation:rule="(has(self.tcp) ? 1 : 0) + (has(self.http) ? 1 : 0) + (has(self.sqlServer) ? 1 : 0) == 1",message="healthCheck needs exactly one of tcp, http or sqlServer"
// +kubebuilder:validation:XValidation:rule="self.timeoutSeconds <= self.periodSeconds",message="healthCheck.timeoutSeconds must not exceed periodSeconds"
type HealthCheck struct {
	// TCP checks that a TCP connection can be opened.
	// +optional
	TCP *TCPHealthCheck `json:"tcp,omitempty"`

	// HTTP checks that GET returns 2xx or 3xx.
	// +optional
	HTTP *HTTPHealthCheck `json:"http,omitempty"`

	// SQLServer connects, runs SELECT 1 and checks that every group database is in the state its
	// member's role expects. Requires spec.sqlServer.
	// +optional
	SQLServer *SQLServerHealthCheck `json:"sqlServer,omitempty"`

	// PeriodSeconds between probes of one member.
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=300
	// +optional
	PeriodSeconds int32 `json:"periodSeconds,omitempty"`

	// TimeoutSeconds of one probe.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=60
	// +optional
	TimeoutSeconds int32 `json:"timeoutSeconds,omitempty"`

	// FailureThreshold is the number of consecutive failed probes after which a member is down.
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	FailureThreshold int32 `json:"failureThreshold,omitempty"`

	// SuccessThreshold is the number of consecutive successful probes after which a down member is
	// healthy again (avoids flapping back).
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	SuccessThreshold int32 `json:"successThreshold,omitempty"`
}

// TCPHealthCheck opens a TCP connection.
type TCPHealthCheck struct {
	// Port to connect to; defaults to the member's address.port.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port,omitempty"`
}

// HTTPHealthCheck sends GET and expects a 2xx or 3xx answer (redirects are not followed).
type HTTPHealthCheck struct {
	// Port to connect to.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`

	// Path to request.
	// +kubebuilder:default="/"
	// +kubebuilder:validation:Pattern=`^/`
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Path string `json:"path,omitempty"`

	// Scheme to use.
	// +kubebuilder:default=HTTP
	// +kubebuilder:validation:Enum=HTTP;HTTPS
	// +optional
	Scheme string `json:"scheme,omitempty"`
}

// SQLServerHealthCheck has no settings: connection details come from spec.sqlServer.
type SQLServerHealthCheck struct{}

// FailoverMode says whether the operator acts on a failure or only reports it.
// +kubebuilder:validation:Enum=Automatic;Manual
type FailoverMode string

const (
	// FailoverAutomatic fails over without a person in the loop.
	FailoverAutomatic FailoverMode = "Automatic"
	// FailoverManual detects and reports (condition FailoverRequired, Event) but never acts.
	FailoverManual FailoverMode = "Manual"
)

// FailbackPolicy says whether the role returns to the preferred member once it is healthy again.
// +kubebuilder:validation:Enum=Never;Automatic
type FailbackPolicy string

const (
	// FailbackNever keeps the current active member.
	FailbackNever FailbackPolicy = "Never"
	// FailbackAutomatic switches back, planned, to the highest-priority member once it has been
	// healthy for failbackDelaySeconds.
	FailbackAutomatic FailbackPolicy = "Automatic"
)

// FailoverPolicy is how and when the active role moves.
type FailoverPolicy struct {
	// Mode Automatic fails over by itself; Manual only reports that a failover is needed.
	// +kubebuilder:default=Automatic
	// +optional
	Mode FailoverMode `json:"mode,omitempty"`

	// Failback Automatic returns the role to the highest-priority member once it has been healthy for
	// failbackDelaySeconds; Never leaves it where it is.
	// +kubebuilder:default=Never
	// +optional
	Failback FailbackPolicy `json:"failback,omitempty"`

	// FailbackDelaySeconds a preferred member must stay healthy before an automatic failback.
	// +kubebuilder:default=300
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=86400
	// +optional
	FailbackDelaySeconds int32 `json:"failbackDelaySeconds,omitempty"`

	// LeaseDurationSeconds of the Lease that records the active member. Nobody else may take the role
	// before the holder's renewTime + leaseDurationSeconds. Must be at least
	// healthCheck.periodSeconds x healthCheck.failureThreshold.
	// +kubebuilder:default=8
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=3600
	// +optional
	LeaseDurationSeconds int32 `json:"leaseDurationSeconds,omitempty"`

	// Paused stops every automatic action (maintenance); health is still reported.
	// +optional
	Paused bool `json:"paused,omitempty"`

	// MaxDataLoss (SQL Server only) refuses automatic promotion of a standby whose restored data is
	// further behind the last shipped backup than this (0s to 168h); override with the annotation
	// understudy.dev/force-failover=<member>. 0s means never lose shipped data: a standby is promoted
	// automatically only when its position is known and it has restored every shipped backup. Unset
	// means no limit. With log shipping it must be 0s or at least logShipping.logBackupInterval.
	// +optional
	// +kubebuilder:validation:XValidation:rule="!self.matches('^(0|([0-9]{1,5}([.][0-9]{1,9})?(ns|us|ms|s|m|h))+)$') || (duration(self) >= duration('0s') && duration(self) <= duration('168h'))",message="failover.maxDataLoss must be between 0s and 168h"
	MaxDataLoss *Duration `json:"maxDataLoss,omitempty"`
}

// Routing moves clients to the active member.
type Routing struct {
	// Service whose selector follows the active member. Created (owned by the group) with ports and
	// type if missing. An existing Service the group does not own is left untouched (Ready=False,
	// reason RoutingConflict) unless it carries the annotation understudy.dev/adopt: "true": then only
	// its selector is managed, and the original is restored when the group lets it go.
	// +optional
	Service *RoutedService `json:"service,omitempty"`

	// ReadOnlyService selects the healthy standbys (for reads from STANDBY databases).
	// +optional
	ReadOnlyService *ReadOnlyService `json:"readOnlyService,omitempty"`

	// DNS publishes ExternalDNS DNSEndpoint records for the active member (and the standbys).
	// +optional
	DNS *DNSRouting `json:"dns,omitempty"`
}

// ServiceType is the type of a Service the operator creates.
// +kubebuilder:validation:Enum=ClusterIP;NodePort;LoadBalancer
type ServiceType string

// RoutedService is the Service that sends traffic to the active member.
type RoutedService struct {
	// Name of the Service in the group's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// Ports of the Service when the operator creates it.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=port
	Ports []ServicePort `json:"ports,omitempty"`

	// Type of the Service when the operator creates it.
	// +kubebuilder:default=ClusterIP
	// +optional
	Type ServiceType `json:"type,omitempty"`
}

// ReadOnlyService is a Service selecting the healthy standbys.
type ReadOnlyService struct {
	// Name of the Service in the group's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// Ports of the Service.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=port
	Ports []ServicePort `json:"ports,omitempty"`
}

// ServicePort is one port of a routed Service.
type ServicePort struct {
	// Name of the port; required by Kubernetes when a Service has more than one port.
	// +optional
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name,omitempty"`

	// Port the Service listens on.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`

	// TargetPort on the pods; defaults to port.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	TargetPort int32 `json:"targetPort,omitempty"`

	// Protocol of the port.
	// +kubebuilder:default=TCP
	// +kubebuilder:validation:Enum=TCP;UDP;SCTP
	// +optional
	Protocol string `json:"protocol,omitempty"`
}

// DNSRouting publishes ExternalDNS records: CNAME when the active member's dnsTarget is a hostname,
// A/AAAA when it is an IP address.
type DNSRouting struct {
	// Hostname that follows the active member.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Hostname string `json:"hostname"`

	// TTL of the records in seconds; short, so clients follow a failover quickly.
	// +kubebuilder:default=30
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=86400
	// +optional
	TTL int64 `json:"ttl,omitempty"`

	// ReadOnlyHostname resolves to the healthy standbys.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	ReadOnlyHostname string `json:"readOnlyHostname,omitempty"`
}

// The enum below is the values of the Notify constants of vocabulary.go, which say when each is sent
// (hack/apidocs tests that the two agree).

// NotificationEvent is a kind of event a webhook can subscribe to.
// +kubebuilder:validation:Enum=Failover;Switchover;Failback;MemberDown;MemberUp;FailoverRequired;FailoverRefused;LogChainBroken
type NotificationEvent string

// Notifications configures webhooks.
type Notifications struct {
	// Webhooks receive a JSON POST for every event they subscribe to.
	// +kubebuilder:validation:MaxItems=10
	// +optional
	Webhooks []Webhook `json:"webhooks,omitempty"`
}

// Webhook is one HTTP(S) receiver.
type Webhook struct {
	// URL to POST to.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^https?://[^\s]+$`
	URL string `json:"url"`

	// SecretRef names the HMAC-SHA256 key; when set, each request carries the header
	// X-Understudy-Signature: v1=<hex of HMAC("<X-Understudy-Timestamp>.<X-Understudy-Delivery>.<body>")>
	// (docs/webhooks.md: verification and replay protection).
	// +optional
	SecretRef *SecretKeySelector `json:"secretRef,omitempty"`

	// Events to send; empty means all.
	// +optional
	// +listType=set
	Events []NotificationEvent `json:"events,omitempty"`
}

// SQLServerEncryption is the TLS mode of connections to SQL Server, as go-mssqldb names it.
// +kubebuilder:validation:Enum=Disable;Optional;Mandatory;Strict
type SQLServerEncryption string

const (
	// EncryptionDisable sends everything in plaintext, including the login and the password (only
	// TDS-obfuscated, which anyone on the path can reverse). Only ever used when set explicitly.
	EncryptionDisable SQLServerEncryption = "Disable"
	// EncryptionOptional encrypts the login only, unless the server forces encryption (driver
	// "false"): queries and results travel in clear.
	EncryptionOptional SQLServerEncryption = "Optional"
	// EncryptionMandatory encrypts the whole connection (driver "true"). The default.
	EncryptionMandatory SQLServerEncryption = "Mandatory"
	// EncryptionStrict uses TDS 8: TLS before any TDS traffic, ALPN tds/8.0 (SQL Server 2022 and
	// later). The certificate is always verified.
	EncryptionStrict SQLServerEncryption = "Strict"
)

// SQLServerSpec says how to reach the members' SQL Server instances and which databases to protect.
type SQLServerSpec struct {
	// CredentialsSecretRef names a Secret with keys `username` and `password` of a login on every
	// member (see docs/sqlserver.md for the permissions it needs).
	CredentialsSecretRef SecretReference `json:"credentialsSecretRef"`

	// Port of SQL Server on members that have pods (members with address.port use that).
	// +kubebuilder:default=1433
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port int32 `json:"port,omitempty"`

	// Databases to protect: 1 to 50 user databases.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=50
	// +listType=set
	Databases []DatabaseName `json:"databases"`

	// TLS settings of the connections. Without them the whole connection is encrypted (Mandatory) and
	// the certificate is verified against the system roots and each member's name.
	// +optional
	TLS *SQLServerTLS `json:"tls,omitempty"`

	// StatementTimeout bounds every statement the operator sends other than BACKUP and RESTORE
	// (health checks, catalog reads, ALTER DATABASE, KILL): 1s to 10m; 0s or unset is the default, 30s. A server that
	// does not answer in time counts as failed for that step, which is retried.
	// +kubebuilder:default="30s"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^(0|([0-9]{1,5}([.][0-9]{1,9})?(ns|us|ms|s|m|h))+)$') || duration(self) == duration('0s') || (duration(self) >= duration('1s') && duration(self) <= duration('10m'))",message="statementTimeout must be 0s (the default) or between 1s and 10m"
	// +optional
	StatementTimeout Duration `json:"statementTimeout,omitempty"`

	// BackupRestoreTimeout bounds one BACKUP or RESTORE statement (a full backup or a seed restore
	// of the largest database is the longest): 1m to 72h; 0s or unset is the default, 2h. Set it above the duration of
	// your largest full backup and restore, or they are cancelled and retried for ever.
	// +kubebuilder:default="2h"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^(0|([0-9]{1,5}([.][0-9]{1,9})?(ns|us|ms|s|m|h))+)$') || duration(self) == duration('0s') || (duration(self) >= duration('1m') && duration(self) <= duration('72h'))",message="backupRestoreTimeout must be 0s (the default) or between 1m and 72h"
	// +optional
	BackupRestoreTimeout Duration `json:"backupRestoreTimeout,omitempty"`
}

// SQLServerTLS configures encryption of SQL Server connections. By default the whole connection is
// encrypted and the server certificate is verified against the CA of caSecretRef (else the
// operator's system roots) and the member's name: its address.host, else
// <pod hostname>.<pod subdomain>.<namespace>.svc for a pod with a subdomain (a StatefulSet pod
// behind its headless Service; the pod is dialed at its IP), else the pod IP. A connection that
// would send the password in clear (a server answering that it cannot encrypt) is refused unless
// mode is Disable.
// +kubebuilder:validation:XValidation:rule="!(has(self.trustServerCertificate) && self.trustServerCertificate && has(self.mode) && self.mode == 'Strict')",message="tls.trustServerCertificate cannot be used with tls.mode Strict: TDS 8 always verifies the server certificate"
// +kubebuilder:validation:XValidation:rule="!(has(self.trustServerCertificate) && self.trustServerCertificate && has(self.caSecretRef))",message="tls.trustServerCertificate skips the verification tls.caSecretRef is for: set one of them"
// +kubebuilder:validation:XValidation:rule="!(has(self.mode) && self.mode == 'Disable' && ((has(self.trustServerCertificate) && self.trustServerCertificate) || has(self.caSecretRef) || has(self.hostNameInCertificate)))",message="tls.mode Disable sends everything in clear: caSecretRef, hostNameInCertificate and trustServerCertificate have no effect with it"
type SQLServerTLS struct {
	// Mode of encryption: Mandatory (the whole connection, the default), Strict (TDS 8, SQL Server
	// 2022), Optional (the login only) or Disable (nothing, the password in clear).
	// +kubebuilder:default=Mandatory
	// +optional
	Mode SQLServerEncryption `json:"mode,omitempty"`

	// CASecretRef names a Secret with key `ca.crt` (PEM) holding the CA that signs the servers'
	// certificates; without it the operator image's system roots are used.
	// +optional
	CASecretRef *SecretReference `json:"caSecretRef,omitempty"`

	// HostNameInCertificate is the DNS name (or IP address) every member's certificate must carry,
	// checked instead of the member's own name (its address.host, or <pod>.<service>.<namespace>.svc
	// for a StatefulSet pod). For members sharing one certificate issued for a common name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^([a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*|[0-9a-fA-F:.]+)$`
	// +optional
	HostNameInCertificate string `json:"hostNameInCertificate,omitempty"`

	// TrustServerCertificate skips verifying the server certificate. LAB USE ONLY: the connection is
	// encrypted but anyone on the network path can present any certificate, read the password and
	// impersonate the server. Not allowed with mode Strict or with caSecretRef; use caSecretRef
	// with a certificate issued for the members' names instead.
	// +optional
	TrustServerCertificate bool `json:"trustServerCertificate,omitempty"`
}

// LogShippingSpec configures backups on the active member; RestoreSchedule configures the restores.
type LogShippingSpec struct {
	// BackupTargetRef names the BackupTarget that backups are written to and read from.
	BackupTargetRef LocalObjectReference `json:"backupTargetRef"`

	// LogBackupInterval between transaction-log backups (10s to 24h). It bounds the data at risk in
	// an unplanned failover.
	// +kubebuilder:default="1m"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^(0|([0-9]{1,5}([.][0-9]{1,9})?(ns|us|ms|s|m|h))+)$') || (duration(self) >= duration('10s') && duration(self) <= duration('24h'))",message="logBackupInterval must be between 10s and 24h"
	// +optional
	LogBackupInterval Duration `json:"logBackupInterval,omitempty"`

	// FullBackupSchedule is a standard 5-field cron expression (UTC) or a macro such as @daily.
	// +kubebuilder:default="0 2 * * *"
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\*|[0-5]?[0-9](-[0-5]?[0-9])?)(/[0-9]+)?(,(\*|[0-5]?[0-9](-[0-5]?[0-9])?)(/[0-9]+)?)* +(\*|(1?[0-9]|2[0-3])(-(1?[0-9]|2[0-3]))?)(/[0-9]+)?(,(\*|(1?[0-9]|2[0-3])(-(1?[0-9]|2[0-3]))?)(/[0-9]+)?)* +(\*|\?|([1-9]|[12][0-9]|3[01])(-([1-9]|[12][0-9]|3[01]))?)(/[0-9]+)?(,(\*|\?|([1-9]|[12][0-9]|3[01])(-([1-9]|[12][0-9]|3[01]))?)(/[0-9]+)?)* +(\*|([1-9]|1[0-2]|[A-Za-z]{3})(-([1-9]|1[0-2]|[A-Za-z]{3}))?)(/[0-9]+)?(,(\*|([1-9]|1[0-2]|[A-Za-z]{3})(-([1-9]|1[0-2]|[A-Za-z]{3}))?)(/[0-9]+)?)* +(\*|\?|([0-7]|[A-Za-z]{3})(-([0-7]|[A-Za-z]{3}))?)(/[0-9]+)?(,(\*|\?|([0-7]|[A-Za-z]{3})(-([0-7]|[A-Za-z]{3}))?)(/[0-9]+)?)*)$`
	// +optional
	FullBackupSchedule string `json:"fullBackupSchedule,omitempty"`

	// KeepRecoveryModel leaves a database in SIMPLE recovery as it is: log shipping fails for it
	// (condition LogShipping, reason LogShippingFailed) until someone sets FULL. By default the
	// operator switches SIMPLE to FULL (Event RecoveryModelChanged), and from then on its log
	// backups are what truncates the log: if they stop, the log grows (condition
	// TransactionLogGrowing).
	// +optional
	KeepRecoveryModel bool `json:"keepRecoveryModel,omitempty"`
}

// Phase is the one-word summary of a group.
// +kubebuilder:validation:Enum=Initializing;Active;Degraded;FailingOver;SwitchingOver;NoActive;Paused;Invalid
type Phase string

const (
	PhaseInitializing  Phase = "Initializing"
	PhaseActive        Phase = "Active"
	PhaseDegraded      Phase = "Degraded"
	PhaseFailingOver   Phase = "FailingOver"
	PhaseSwitchingOver Phase = "SwitchingOver"
	PhaseNoActive      Phase = "NoActive"
	PhasePaused        Phase = "Paused"
	// PhaseInvalid: the spec cannot be used (Ready=False, reason InvalidSpec); nothing is done.
	PhaseInvalid Phase = "Invalid"
)

// MemberRole is a member's role as the operator sees it.
// +kubebuilder:validation:Enum=Active;Standby;Fenced;Disabled;Unknown
type MemberRole string

const (
	RoleActive   MemberRole = "Active"
	RoleStandby  MemberRole = "Standby"
	RoleFenced   MemberRole = "Fenced"
	RoleDisabled MemberRole = "Disabled"
	RoleUnknown  MemberRole = "Unknown"
)

// FailoverGroupStatus is the observed state of a group.
type FailoverGroupStatus struct {
	// ObservedGeneration is the spec generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// ActiveMember mirrors the holder of the group's Lease.
	// +optional
	ActiveMember string `json:"activeMember,omitempty"`

	// Phase summarises the group.
	// +optional
	Phase Phase `json:"phase,omitempty"`

	// Healthy is "<healthy members>/<members>", for kubectl get.
	// +optional
	Healthy string `json:"healthy,omitempty"`

	// Lag is the largest restore lag over standbys and databases (SQL Server groups), e.g. "42s".
	// +optional
	Lag string `json:"lag,omitempty"`

	// FailoverReadiness is what the operator would do if the active member failed now: the member
	// it would promote, why, and the data at risk. Its reason is the FailoverReady condition's.
	// +optional
	FailoverReadiness *FailoverReadiness `json:"failoverReadiness,omitempty"`

	// Conditions: Ready, Available, Degraded, LogShipping, FailoverRequired, FailoverReady.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Members is the observed state of each member.
	// +optional
	// +listType=map
	// +listMapKey=name
	Members []MemberStatus `json:"members,omitempty"`

	// LastFailover records the most recent change of the active member.
	// +optional
	LastFailover *FailoverRecord `json:"lastFailover,omitempty"`

	// FailoverCount counts changes of the active member (failovers, switchovers, failbacks).
	// +optional
	FailoverCount int64 `json:"failoverCount,omitempty"`

	// InProgress is the failover or switchover under way, so a restarted operator resumes it.
	// +optional
	InProgress *FailoverProgress `json:"inProgress,omitempty"`
}

// FailoverReadiness says who would win a failover now, and why.
type FailoverReadiness struct {
	// Candidate is the member an automatic failover would promote now ("" when none could).
	// +optional
	Candidate string `json:"candidate,omitempty"`

	// Reason is the FailoverReady condition's reason: CandidateReady, MaxDataLossExceeded,
	// NoCandidate, NoActiveMember, ManualMode, Paused or FailoverInProgress.
	Reason string `json:"reason"`

	// Message explains the choice: the candidate's priority, data position and health against the
	// other members', and why the others are not candidates.
	// +optional
	Message string `json:"message,omitempty"`

	// DataAtRisk is how far the candidate's restored data trails the newest shipped backup: the
	// writes a failover now would lose at least (SQL Server groups with log shipping; whole
	// seconds). Absent when unknown or not applicable.
	// +optional
	DataAtRisk *Duration `json:"dataAtRisk,omitempty"`

	// BlockedByMaxDataLoss says the candidate is further behind than failover.maxDataLoss allows:
	// an automatic failover would be refused.
	// +optional
	BlockedByMaxDataLoss bool `json:"blockedByMaxDataLoss,omitempty"`
}

// MemberStatus is the observed state of one member.
type MemberStatus struct {
	// Name of the member.
	Name string `json:"name"`

	// Role of the member.
	// +optional
	Role MemberRole `json:"role,omitempty"`

	// Healthy is the member's health after thresholds.
	// +optional
	Healthy bool `json:"healthy"`

	// ConsecutiveFailures of the member's probes.
	// +optional
	ConsecutiveFailures int32 `json:"consecutiveFailures,omitempty"`

	// LastProbeTime is when the member was last probed.
	// +optional
	LastProbeTime *metav1.Time `json:"lastProbeTime,omitempty"`

	// HealthySince is when the member last became healthy (used for the failback delay).
	// +optional
	HealthySince *metav1.Time `json:"healthySince,omitempty"`

	// Message explains the member's state, e.g. the last probe error.
	// +optional
	Message string `json:"message,omitempty"`

	// Databases is the restore position per database (SQL Server groups).
	// +optional
	// +listType=map
	// +listMapKey=name
	Databases []DatabasePosition `json:"databases,omitempty"`
}

// DatabasePosition is where one database of one member stands.
type DatabasePosition struct {
	// Name of the database.
	Name string `json:"name"`

	// State as SQL Server reports it (ONLINE, RESTORING, STANDBY, ...).
	// +optional
	State string `json:"state,omitempty"`

	// LSN the database is restored to (decimal, numeric(25,0)).
	// +optional
	LSN string `json:"lsn,omitempty"`

	// LastRestoredFile is the last backup file applied.
	// +optional
	LastRestoredFile string `json:"lastRestoredFile,omitempty"`

	// LastRestoreTime is when that file was applied.
	// +optional
	LastRestoreTime *metav1.Time `json:"lastRestoreTime,omitempty"`

	// LagSeconds between the newest backup taken on the primary and the newest one restored here.
	// +optional
	LagSeconds int64 `json:"lagSeconds,omitempty"`

	// SalvageFile is the log backup of what this member wrote after its last shipped backup, taken
	// when it came back after an unplanned failover (a DBA can restore it elsewhere to recover those
	// transactions).
	// +optional
	SalvageFile string `json:"salvageFile,omitempty"`

	// Owner is the login that owns the database, recorded on the active member: a restore makes
	// the restoring login the owner, so after a failover or switchover the operator sets this one
	// back on the new active member (ALTER AUTHORIZATION).
	// +optional
	Owner string `json:"owner,omitempty"`

	// Trustworthy is the database's TRUSTWORTHY setting, recorded on the active member: a restore
	// turns it off, so the operator turns it on again on the new active member.
	// +optional
	Trustworthy bool `json:"trustworthy,omitempty"`
}

// FailoverRecord describes one change of the active member.
type FailoverRecord struct {
	// From is the member that was active (empty on first election).
	// +optional
	From string `json:"from,omitempty"`
	// To is the member that became active.
	To string `json:"to"`
	// Reason: Failover, Switchover, Failback, Forced, InitialElection.
	Reason string `json:"reason"`
	// StartedAt is when the change began (microsecond precision).
	StartedAt metav1.MicroTime `json:"startedAt"`
	// CompletedAt is when routing pointed at the new member (microsecond precision).
	// +optional
	CompletedAt *metav1.MicroTime `json:"completedAt,omitempty"`
	// EstimatedDataLoss is the window of writes that may be lost (SQL Server, unplanned failover).
	// +optional
	EstimatedDataLoss *Duration `json:"estimatedDataLoss,omitempty"`
}

// FailoverStep is the last completed step of a failover in progress.
// +kubebuilder:validation:Enum=Started;Fenced;LeaseTaken;Promoted;Routed
type FailoverStep string

const (
	StepStarted    FailoverStep = "Started"
	StepFenced     FailoverStep = "Fenced"
	StepLeaseTaken FailoverStep = "LeaseTaken"
	StepPromoted   FailoverStep = "Promoted"
	StepRouted     FailoverStep = "Routed"
)

// FailoverProgress records a failover under way: each step is idempotent, and a restarted operator
// continues from Step.
type FailoverProgress struct {
	// From is the member losing the role.
	// +optional
	From string `json:"from,omitempty"`
	// To is the member taking the role.
	To string `json:"to"`
	// Reason: Failover, Switchover, Failback, Forced.
	Reason string `json:"reason"`
	// Step is the last step completed.
	Step FailoverStep `json:"step"`
	// StartedAt is when the failover began (microsecond precision).
	StartedAt metav1.MicroTime `json:"startedAt"`
	// EstimatedDataLoss is what promotion estimated (SQL Server, unplanned failover).
	// +optional
	EstimatedDataLoss *Duration `json:"estimatedDataLoss,omitempty"`
}

// FailoverGroup is an active/passive group of servers: one member is active, the others stand by,
// and the operator moves the active role when the active member fails.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="metadata.name of a FailoverGroup must be at most 63 characters: it is the value of the understudy.dev/group label on its Lease, Services and pods"
// +kubebuilder:resource:shortName=fg,categories=understudy
// +kubebuilder:printcolumn:name="Active",type=string,JSONPath=`.status.activeMember`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Healthy",type=string,JSONPath=`.status.healthy`
// +kubebuilder:printcolumn:name="Failover-To",type=string,JSONPath=`.status.failoverReadiness.candidate`
// +kubebuilder:printcolumn:name="Lag",type=string,JSONPath=`.status.lag`
// +kubebuilder:printcolumn:name="Failovers",type=integer,JSONPath=`.status.failoverCount`
// +kubebuilder:printcolumn:name="Last Failover",type=date,JSONPath=`.status.lastFailover.completedAt`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type FailoverGroup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   FailoverGroupSpec   `json:"spec"`
	Status FailoverGroupStatus `json:"status,omitempty"`
}

// FailoverGroupList is a list of FailoverGroups.
// +kubebuilder:object:root=true
type FailoverGroupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FailoverGroup `json:"items"`
}

func init() {
	SchemeBuilder.Register(&FailoverGroup{}, &FailoverGroupList{})
}
