package mssqlsim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// TDS packet types (MS-TDS 2.2.3.1.1).
const (
	pktSQLBatch     byte = 0x01
	pktRPC          byte = 0x03
	pktReply        byte = 0x04
	pktAttention    byte = 0x06
	pktBulkLoad     byte = 0x07
	pktFedAuthToken byte = 0x08
	pktTransMgr     byte = 0x0E
	pktLogin7       byte = 0x10
	pktSSPI         byte = 0x11
	pktPrelogin     byte = 0x12
)

// TDS packet header status bits (MS-TDS 2.2.3.1.2).
const (
	statusEOM                    byte = 0x01
	statusIgnore                 byte = 0x02
	statusResetConnection        byte = 0x08
	statusResetConnectionSkipTxn byte = 0x10
)

const (
	packetHeaderSize = 8
	// minPacketSize and maxPacketSize bound the negotiated packet size
	// (MS-TDS 2.2.6.4 LOGIN7 PacketSize).
	minPacketSize     = 512
	maxPacketSize     = 32767
	defaultPacketSize = 4096
	// maxMessageSize guards the reassembly of a message from packets.
	maxMessageSize = 64 << 20
)

var errMessageTooLarge = errors.New("tds: message exceeds simulator limit")

// packetHeader is the 8-byte header of every TDS packet (MS-TDS 2.2.3.1).
type packetHeader struct {
	Type     byte
	Status   byte
	Length   uint16 // including the header, big-endian on the wire
	SPID     uint16 // big-endian on the wire
	PacketID byte
	Window   byte
}

func parsePacketHeader(b []byte) (packetHeader, error) {
	if len(b) < packetHeaderSize {
		return packetHeader{}, fmt.Errorf("tds: short packet header (%d bytes)", len(b))
	}
	h := packetHeader{
		Type:     b[0],
		Status:   b[1],
		Length:   binary.BigEndian.Uint16(b[2:4]),
		SPID:     binary.BigEndian.Uint16(b[4:6]),
		PacketID: b[6],
		Window:   b[7],
	}
	if h.Length < packetHeaderSize {
		return h, fmt.Errorf("tds: invalid packet length %d", h.Length)
	}
	return h, nil
}

func (h packetHeader) put(b []byte) {
	b[0] = h.Type
	b[1] = h.Status
	binary.BigEndian.PutUint16(b[2:4], h.Length)
	binary.BigEndian.PutUint16(b[4:6], h.SPID)
	b[6] = h.PacketID
	b[7] = h.Window
}

// tdsMessage is a complete client message reassembled from one or more
// packets (MS-TDS 2.2.1: a message ends with the packet that has EOM set).
type tdsMessage struct {
	Type byte
	// Status holds the status bits of the first packet (RESETCONNECTION is
	// only meaningful there).
	Status byte
	Data   []byte
}

func (m tdsMessage) resetConnection() bool {
	return m.Status&(statusResetConnection|statusResetConnectionSkipTxn) != 0
}

// readMessage reads packets from r until EOM and returns the reassembled
// message. A message whose last packet carries the IGNORE bit is discarded
// by the caller (MS-TDS 2.2.3.1.2).
func readMessage(r io.Reader) (tdsMessage, error) {
	var msg tdsMessage
	hdr := make([]byte, packetHeaderSize)
	first := true
	for {
		if _, err := io.ReadFull(r, hdr); err != nil {
			if !first && errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return msg, err
		}
		h, err := parsePacketHeader(hdr)
		if err != nil {
			return msg, err
		}
		if first {
			msg.Type = h.Type
			msg.Status = h.Status
			first = false
		} else if h.Type != msg.Type {
			return msg, fmt.Errorf("tds: packet type changed inside a message (%#x then %#x)", msg.Type, h.Type)
		}
		n := int(h.Length) - packetHeaderSize
		if len(msg.Data)+n > maxMessageSize {
			return msg, errMessageTooLarge
		}
		start := len(msg.Data)
		msg.Data = append(msg.Data, make([]byte, n)...)
		if _, err := io.ReadFull(r, msg.Data[start:]); err != nil {
			return msg, fmt.Errorf("tds: reading packet body: %w", err)
		}
		if h.Status&statusEOM != 0 {
			if h.Status&statusIgnore != 0 {
				msg.Data = nil
				msg.Status |= statusIgnore
			}
			return msg, nil
		}
	}
}

// splitPackets splits a message payload into packets of at most packetSize
// bytes (header included), numbering them from 1 and setting EOM on the
// last one (MS-TDS 2.2.3.1).
func splitPackets(typ byte, payload []byte, packetSize int, spid uint16) []byte {
	if packetSize < minPacketSize {
		packetSize = minPacketSize
	}
	if packetSize > maxPacketSize {
		packetSize = maxPacketSize
	}
	chunk := packetSize - packetHeaderSize
	count := (len(payload) + chunk - 1) / chunk
	if count == 0 {
		count = 1
	}
	out := make([]byte, 0, len(payload)+count*packetHeaderSize)
	var id byte = 1
	for i := 0; i < count; i++ {
		start := i * chunk
		end := min(start+chunk, len(payload))
		h := packetHeader{Type: typ, Length: uint16(packetHeaderSize + end - start), SPID: spid, PacketID: id}
		if i == count-1 {
			h.Status = statusEOM
		}
		var hb [packetHeaderSize]byte
		h.put(hb[:])
		out = append(out, hb[:]...)
		out = append(out, payload[start:end]...)
		id++
	}
	return out
}
