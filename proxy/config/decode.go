package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	goyaml "go.yaml.in/yaml/v2"
	"sigs.k8s.io/yaml"
)

// Decode reads a Config from JSON or YAML. Unknown fields are errors, so a
// misspelt field is reported instead of silently ignored. Decode does not
// validate; call Validate.
func Decode(data []byte) (*Config, error) {
	js := data
	if trimmed := bytes.TrimSpace(data); len(trimmed) == 0 || trimmed[0] != '{' {
		if err := singleYAMLDocument(data); err != nil {
			return nil, fmt.Errorf("decode config: %w", err)
		}
		var err error
		// Strict: a key written twice is an error, not "last one wins".
		if js, err = yaml.YAMLToJSONStrict(data); err != nil {
			return nil, fmt.Errorf("decode config: %w", err)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	cfg := &Config{}
	if err := dec.Decode(cfg); err != nil {
		return nil, fmt.Errorf("decode config: %w", err)
	}
	// A second document would be silently ignored: refuse it.
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		return nil, fmt.Errorf("decode config: unexpected data after the configuration")
	}
	return cfg, nil
}

// singleYAMLDocument refuses a stream of several YAML documents, of which
// the conversion to JSON would silently keep the first.
func singleYAMLDocument(data []byte) error {
	dec := goyaml.NewDecoder(bytes.NewReader(data))
	for n := 0; ; n++ {
		var doc any
		err := dec.Decode(&doc)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("several YAML documents; a configuration is one document")
		}
	}
}

// Load decodes and validates a Config.
func Load(data []byte) (*Config, error) {
	cfg, err := Decode(data)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}
