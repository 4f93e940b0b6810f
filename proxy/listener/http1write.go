package listener

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// writeRequest writes req in HTTP/1.1 as http.Request.Write does for a
// client, for the requests the fast path takes (no trailers, a body of known
// length or none), without sorting the header fields first: Request.Write
// sorts them on every request, which the wire does not need.
func writeRequest(bw *bufio.Writer, req *http.Request) error {
	err := writeRequestHeader(bw, req)
	if err == nil && req.Body != nil && req.Body != http.NoBody {
		var n int64
		n, err = io.CopyN(bw, req.Body, req.ContentLength)
		if err != nil && n < req.ContentLength {
			err = fmt.Errorf("http: ContentLength=%d with Body length %d: %w", req.ContentLength, n, err)
		}
	}
	closeBody(req)
	if err != nil {
		return err
	}
	return bw.Flush()
}

func writeRequestHeader(bw *bufio.Writer, req *http.Request) error {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if !httpguts.ValidHostHeader(host) {
		return errors.New("http: invalid Host header")
	}
	_, _ = bw.WriteString(req.Method)
	_ = bw.WriteByte(' ')
	_, _ = bw.WriteString(req.URL.RequestURI())
	_, _ = bw.WriteString(" HTTP/1.1\r\nHost: ")
	_, _ = bw.WriteString(host)
	_, _ = bw.WriteString("\r\n")
	// Go's own User-Agent unless the request has the field; an empty one
	// means none (how the relay keeps the client's absence of one).
	userAgent := "Go-http-client/1.1"
	if _, ok := req.Header["User-Agent"]; ok {
		userAgent = req.Header.Get("User-Agent")
	}
	if userAgent != "" {
		writeField(bw, "User-Agent", userAgent)
	}
	if req.Body != nil && req.Body != http.NoBody && req.ContentLength > 0 {
		writeField(bw, "Content-Length", strconv.FormatInt(req.ContentLength, 10))
	} else if req.Method == http.MethodPost || req.Method == http.MethodPut || req.Method == http.MethodPatch {
		writeField(bw, "Content-Length", "0")
	}
	if req.Close {
		writeField(bw, "Connection", "close")
	}
	for k, vv := range req.Header {
		switch k {
		case "Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer":
			continue
		}
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("http: invalid header field name %q", k)
		}
		for _, v := range vv {
			writeField(bw, k, v)
		}
	}
	_, err := bw.WriteString("\r\n")
	return err
}

// writeField writes one header field.
func writeField(bw *bufio.Writer, k, v string) {
	_, _ = bw.WriteString(k)
	_, _ = bw.WriteString(": ")
	_, _ = bw.WriteString(fieldValue(v))
	_, _ = bw.WriteString("\r\n")
}

// appendField is writeField for a byte slice.
func appendField(dst []byte, k, v string) []byte {
	dst = append(dst, k...)
	dst = append(dst, ": "...)
	dst = append(dst, fieldValue(v)...)
	return append(dst, "\r\n"...)
}

// fieldValue is a header value as it goes on the wire: a line break would
// end the field early, so it becomes a space, as Request.Write does, and
// surrounding blanks go.
func fieldValue(v string) string {
	if strings.ContainsAny(v, "\r\n") {
		v = newlineToSpace.Replace(v)
	}
	return textproto.TrimString(v)
}

var newlineToSpace = strings.NewReplacer("\n", " ", "\r", " ")
