package listener

import (
	"encoding/hex"
	"math/rand/v2"
)

// requestIDHeader carries the id that lets logs and traces of one request be
// joined across services. A request that arrives without one gets one.
const requestIDHeader = "X-Request-Id"

// newRequestID returns a random UUID (version 4). It need not be
// unpredictable, only unique, so it uses the fast per-thread generator.
func newRequestID() string {
	var b [16]byte
	hi, lo := rand.Uint64(), rand.Uint64()
	for i := range 8 {
		b[i] = byte(hi >> (8 * i))
		b[8+i] = byte(lo >> (8 * i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}
