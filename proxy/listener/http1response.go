package listener

import (
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
)

// maxPendingBody is how much of a response body without a Content-Length
// is held back, so that a small one that ends with the handler is sent
// with a Content-Length rather than chunked (as net/http does).
const maxPendingBody = 2 << 10

// http1Response is the fast path's http.ResponseWriter. It writes what
// net/http's server would for the same calls: the header as it was at
// WriteHeader, sent with the first body bytes that do not fit the buffer,
// on Flush or when the handler returns; a body framed by its
// Content-Length, or by one the server counts when the handler ends
// within the buffer, or else chunked (with the trailers the handler
// declares); 1xx informational responses as they come; and a Date.
type http1Response struct {
	conn   *serverConn
	req    *http.Request
	header http.Header

	status        int
	headerSent    bool
	contentLength int64 // -1: not announced
	written       int64
	chunked       bool
	pending       []byte
	// fields are the header fields as serialized at WriteHeader, but for
	// the framing ones, which are decided when the header is sent.
	fields     []byte
	hasDate    bool
	hasClose   bool     // the fields say Connection: close
	trailers   []string // declared in the Trailer field
	closeAfter bool
	scratch    []byte
}

var (
	_ http.ResponseWriter = (*http1Response)(nil)
	_ http.Flusher        = (*http1Response)(nil)
)

func (w *http1Response) reset(req *http.Request) {
	if w.header == nil {
		w.header = make(http.Header, 8)
	}
	clear(w.header)
	w.req = req
	w.status, w.headerSent, w.contentLength, w.written = 0, false, -1, 0
	w.chunked, w.pending, w.fields, w.trailers = false, w.pending[:0], w.fields[:0], w.trailers[:0]
	w.closeAfter = req.Close || saysClose(req.Header)
}

func (w *http1Response) Header() http.Header { return w.header }

func (w *http1Response) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if w.status != 0 {
		return // superfluous, as net/http ignores it
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		w.writeInformational(code)
		return
	}
	w.status = code
	if cl := w.header["Content-Length"]; len(cl) == 1 {
		if n, err := strconv.ParseInt(cl[0], 10, 64); err == nil && n >= 0 {
			w.contentLength = n
		}
	}
	_, w.hasDate = w.header["Date"]
	w.hasClose = saysClose(w.header)
	w.closeAfter = w.closeAfter || w.hasClose
	w.declareTrailers()
	w.fields = appendFields(w.fields[:0], w.header, code)
}

// writeInformational sends a 1xx response (103 Early Hints) at once, with
// the header fields set so far.
func (w *http1Response) writeInformational(code int) {
	bw := w.conn.bw
	w.writeStatusLine(code)
	w.scratch = appendFields(w.scratch[:0], w.header, code)
	_, _ = bw.Write(w.scratch)
	_, _ = bw.WriteString("\r\n")
	_ = bw.Flush()
}

func (w *http1Response) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowedForStatus(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.req.Method == http.MethodHead {
		// No body goes out; how much the handler wrote may become the
		// Content-Length, as with net/http.
		w.written += int64(len(p))
		if !w.headerSent && w.written > maxPendingBody {
			if err := w.sendHeader(); err != nil {
				return 0, err
			}
		}
		return len(p), nil
	}
	if w.contentLength >= 0 && w.written+int64(len(p)) > w.contentLength {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	if !w.headerSent {
		if w.contentLength < 0 && len(w.pending)+len(p) <= maxPendingBody {
			w.pending = append(w.pending, p...)
			return len(p), nil
		}
		if err := w.sendHeader(); err != nil {
			return 0, err
		}
	}
	return w.writeBody(p)
}

func (w *http1Response) writeBody(p []byte) (int, error) {
	bw := w.conn.bw
	if !w.chunked {
		return bw.Write(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	w.scratch = strconv.AppendInt(w.scratch[:0], int64(len(p)), 16)
	w.scratch = append(w.scratch, '\r', '\n')
	_, _ = bw.Write(w.scratch)
	n, err := bw.Write(p)
	if err == nil {
		_, err = bw.WriteString("\r\n")
	}
	return n, err
}

// Flush sends the header, and what the body has so far, to the client.
func (w *http1Response) Flush() { _ = w.FlushError() }

// FlushError is Flush that says why it failed (for
// http.ResponseController).
func (w *http1Response) FlushError() error {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.headerSent {
		if err := w.sendHeader(); err != nil {
			return err
		}
	}
	return w.conn.bw.Flush()
}

// finish ends the response once the handler has returned.
func (w *http1Response) finish() error {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.headerSent {
		if w.contentLength < 0 && bodyAllowedForStatus(w.status) && len(w.trailers) == 0 &&
			(w.req.Method != http.MethodHead || w.written > 0) {
			// All of the body is known: announce its length.
			w.contentLength = w.written
		}
		if err := w.sendHeader(); err != nil {
			return err
		}
	}
	bw := w.conn.bw
	switch {
	case w.chunked:
		_, _ = bw.WriteString("0\r\n")
		w.writeTrailers()
		_, _ = bw.WriteString("\r\n")
	case w.contentLength >= 0 && w.written < w.contentLength && w.req.Method != http.MethodHead && bodyAllowedForStatus(w.status):
		// The client waits for bytes that will not come: only a
		// closed connection tells it.
		w.closeAfter = true
	}
	return bw.Flush()
}

// sendHeader writes the status line and header fields, choosing how the
// body is framed, then the body held back so far.
func (w *http1Response) sendHeader() error {
	w.headerSent = true
	bw := w.conn.bw
	bodyAllowed := bodyAllowedForStatus(w.status) && w.req.Method != http.MethodHead
	w.chunked = bodyAllowed && w.contentLength < 0
	if w.conn.srv.shuttingDown() {
		w.closeAfter = true
	}
	w.writeStatusLine(w.status)
	if !w.hasDate {
		_, _ = bw.WriteString("Date: ")
		_, _ = bw.WriteString(httpDate(time.Now()))
		_, _ = bw.WriteString("\r\n")
	}
	switch {
	case w.chunked:
		_, _ = bw.WriteString("Transfer-Encoding: chunked\r\n")
	case w.contentLength >= 0 && bodyAllowedForStatus(w.status):
		_, _ = bw.WriteString("Content-Length: ")
		w.scratch = strconv.AppendInt(w.scratch[:0], w.contentLength, 10)
		_, _ = bw.Write(w.scratch)
		_, _ = bw.WriteString("\r\n")
	}
	if w.closeAfter && !w.hasClose {
		_, _ = bw.WriteString("Connection: close\r\n")
	}
	_, _ = bw.Write(w.fields)
	_, err := bw.WriteString("\r\n")
	if err == nil && len(w.pending) > 0 {
		_, err = w.writeBody(w.pending)
		w.pending = w.pending[:0]
	}
	return err
}

func (w *http1Response) writeStatusLine(code int) {
	bw := w.conn.bw
	_, _ = bw.WriteString("HTTP/1.1 ")
	w.scratch = strconv.AppendInt(w.scratch[:0], int64(code), 10)
	_, _ = bw.Write(w.scratch)
	_ = bw.WriteByte(' ')
	if text := http.StatusText(code); text != "" {
		_, _ = bw.WriteString(text)
	} else {
		_, _ = bw.WriteString("status code ")
		_, _ = bw.Write(w.scratch)
	}
	_, _ = bw.WriteString("\r\n")
}

// appendFields serializes a header's fields for a response with status.
// The framing fields are left out (the server decides them), as are fields
// named with http.TrailerPrefix, a 304's Content-Type, and fields with
// invalid names, as net/http does.
func appendFields(dst []byte, h http.Header, status int) []byte {
	for k, vv := range h {
		switch {
		case k == "Transfer-Encoding", k == "Content-Length", strings.HasPrefix(k, http.TrailerPrefix),
			k == "Content-Type" && status == http.StatusNotModified, !httpguts.ValidHeaderFieldName(k):
			continue
		}
		for _, v := range vv {
			dst = appendField(dst, k, v)
		}
	}
	return dst
}

// declareTrailers notes the trailer fields the Trailer header announces.
func (w *http1Response) declareTrailers() {
	for _, v := range w.header["Trailer"] {
		for k := range strings.SplitSeq(v, ",") {
			if k = textproto.TrimString(k); k != "" {
				w.trailers = append(w.trailers, textproto.CanonicalMIMEHeaderKey(k))
			}
		}
	}
}

// writeTrailers writes the declared trailers and those set with
// http.TrailerPrefix, after the last chunk.
func (w *http1Response) writeTrailers() {
	for _, k := range w.trailers {
		for _, v := range w.header[k] {
			writeField(w.conn.bw, k, v)
		}
	}
	for k, vv := range w.header {
		if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok && httpguts.ValidHeaderFieldName(name) {
			for _, v := range vv {
				writeField(w.conn.bw, name, v)
			}
		}
	}
}

// bodyAllowedForStatus: 1xx, 204 and 304 responses have no body.
func bodyAllowedForStatus(status int) bool {
	switch {
	case status >= 100 && status <= 199, status == http.StatusNoContent, status == http.StatusNotModified:
		return false
	}
	return true
}

// saysClose says whether a header's Connection field asks to close the
// connection, judged as net/http's server judges it (its first value,
// "close" between spaces, tabs or commas, in any case), which is looser
// than the token list http.Request.Close comes from.
func saysClose(h http.Header) bool {
	vv := h["Connection"]
	if len(vv) == 0 {
		return false
	}
	v := vv[0]
	const token = "close"
	for start := 0; start+len(token) <= len(v); start++ {
		end := start + len(token)
		if (start == 0 || isTokenBoundary(v[start-1])) && (end == len(v) || isTokenBoundary(v[end])) &&
			strings.EqualFold(v[start:end], token) {
			return true
		}
	}
	return false
}

func isTokenBoundary(b byte) bool { return b == ' ' || b == ',' || b == '\t' }

// httpDate is the Date field's value for now, formatted once a second.
func httpDate(now time.Time) string {
	sec := now.Unix()
	if d := dateCache.Load(); d != nil && d.unix == sec {
		return d.value
	}
	d := &cachedDate{unix: sec, value: now.UTC().Format(http.TimeFormat)}
	dateCache.Store(d)
	return d.value
}

type cachedDate struct {
	unix  int64
	value string
}

var dateCache atomic.Pointer[cachedDate]
