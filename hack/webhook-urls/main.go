// Command webhook-urls rewrites admission webhook configurations so the API
// server calls the webhook server by URL instead of through a Service: a local
// run (make run-local) serves webhooks from a process on 127.0.0.1, and nothing
// may send a packet to a ClusterIP (ARCHITECTURE.md, "Local cluster and its
// network").
//
// It reads a YAML stream (kustomize build config/local) on stdin and writes it
// to stdout with every webhooks[].clientConfig.service {path} of a
// Mutating- or ValidatingWebhookConfiguration replaced by
// url: <base><path>. Other documents pass through unchanged. It works on
// whatever webhooks controller-gen generated, without per-webhook patches.
//
//	kustomize build config/local | go run ./hack/webhook-urls --base https://127.0.0.1:9443
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

func main() {
	base := flag.String("base", "https://127.0.0.1:9443", "Scheme, host and port of the webhook server; each webhook's service path is appended.")
	flag.Parse()
	if err := rewriteStream(os.Stdin, os.Stdout, *base); err != nil {
		fmt.Fprintf(os.Stderr, "webhook-urls: %v\n", err)
		os.Exit(1)
	}
}

// rewriteStream copies every document from in to out, rewriting webhook
// configurations on the way.
func rewriteStream(in io.Reader, out io.Writer, base string) error {
	baseURL, err := url.Parse(base)
	if err != nil || baseURL.Scheme != "https" || baseURL.Host == "" || strings.Trim(baseURL.Path, "/") != "" {
		return fmt.Errorf("--base %q: want https://host:port", base)
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(in))
	first := true
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read YAML document: %w", err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		rewritten, err := rewriteDocument(doc, strings.TrimSuffix(base, "/"))
		if err != nil {
			return err
		}
		if !first {
			if _, err := io.WriteString(out, "---\n"); err != nil {
				return err
			}
		}
		first = false
		if _, err := out.Write(rewritten); err != nil {
			return err
		}
	}
}

// rewriteDocument returns doc unchanged unless it is a webhook configuration.
func rewriteDocument(doc []byte, base string) ([]byte, error) {
	var obj map[string]any
	if err := yaml.Unmarshal(doc, &obj); err != nil {
		return nil, fmt.Errorf("parse YAML document: %w", err)
	}
	kind, _ := obj["kind"].(string)
	if kind != "MutatingWebhookConfiguration" && kind != "ValidatingWebhookConfiguration" {
		return doc, nil
	}
	webhooks, _ := obj["webhooks"].([]any)
	for i, w := range webhooks {
		webhook, ok := w.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: webhooks[%d] is not an object", kind, i)
		}
		clientConfig, _ := webhook["clientConfig"].(map[string]any)
		service, ok := clientConfig["service"].(map[string]any)
		if !ok {
			continue // already a URL
		}
		path, _ := service["path"].(string)
		if path == "" {
			path = "/"
		}
		delete(clientConfig, "service")
		clientConfig["url"] = base + path
	}
	out, err := yaml.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", kind, err)
	}
	return out, nil
}
