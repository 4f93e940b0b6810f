package config

import "encoding/json"

// redacted replaces secret values on the admin /config page.
const redacted = "REDACTED"

// Redacted returns a deep copy of the configuration with secrets replaced,
// safe to show on the admin /config page.
func (c *Config) Redacted() *Config {
	// A JSON round trip is the simplest deep copy of this plain-data model,
	// and /config is not a hot path.
	data, err := json.Marshal(c)
	if err != nil {
		return &Config{Version: c.Version}
	}
	out := &Config{}
	if err := json.Unmarshal(data, out); err != nil {
		return &Config{Version: c.Version}
	}
	if out.TLS != nil && out.TLS.KeyPEM != "" {
		out.TLS.KeyPEM = redacted
	}
	return out
}
