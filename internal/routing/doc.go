// Package routing computes where clients are sent: the selector of the group's Service, the
// read-only Service, the labels of members' pods and the ExternalDNS records. It only builds desired
// state; the controller applies it.
//
// Never two members behind the Service: the Service selects exactly one member's matchLabels, and
// while a failover is between fencing and routing it selects nothing (FencedSelector).
package routing
