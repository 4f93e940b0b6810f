// Command bundle writes Sluice's OLM bundle (`make bundle`): bundle/manifests
// (the ClusterServiceVersion, the CRDs and the objects OLM installs next to
// them), bundle/metadata/annotations.yaml and bundle.Dockerfile.
//
// It stands in for `operator-sdk generate bundle`, which cannot be downloaded
// here: it renders config/manifests with kustomize and converts the result,
// using only Kubernetes' own types and OLM's published field names.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	opts, err := parseOptions(flag.CommandLine, os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bundle:", err)
		os.Exit(2)
	}
	if err := run(opts); err != nil {
		fmt.Fprintln(os.Stderr, "bundle:", err)
		os.Exit(1)
	}
}

// options are the command's flags; defaults fit a run from the repository root.
type options struct {
	version        string
	image          string
	replaces       string
	kustomize      string
	manifestsDir   string
	csvBase        string
	samplesDir     string
	outputDir      string
	pkg            string
	channels       []string
	defaultChannel string
}

func parseOptions(fs *flag.FlagSet, args []string) (options, error) {
	var o options
	var channels string
	fs.StringVar(&o.version, "version", "", "Semantic version of this bundle, e.g. 0.1.0 (required).")
	fs.StringVar(&o.image, "image", "", "Manager image the bundle deploys, e.g. ghcr.io/sluicemesh/sluice:0.1.0 (required).")
	fs.StringVar(&o.replaces, "replaces", "", "Name of the CSV this one upgrades, e.g. sluice.v0.0.9 (optional).")
	fs.StringVar(&o.kustomize, "kustomize", "kustomize", "kustomize binary.")
	fs.StringVar(&o.manifestsDir, "manifests", "config/manifests", "Kustomization rendering the install as OLM runs it.")
	fs.StringVar(&o.csvBase, "csv-base", "config/manifests/bases/sluice.clusterserviceversion.yaml",
		"Hand-written part of the ClusterServiceVersion (description, links, install modes).")
	fs.StringVar(&o.samplesDir, "samples", "config/samples", "Directory of sample objects for the alm-examples annotation.")
	fs.StringVar(&o.outputDir, "output-dir", ".", "Where bundle/ and bundle.Dockerfile are written.")
	fs.StringVar(&o.pkg, "package", "sluice", "OLM package name.")
	fs.StringVar(&channels, "channels", "alpha", "Comma-separated channels this bundle is published in.")
	fs.StringVar(&o.defaultChannel, "default-channel", "", "Default channel of the package (default: the first of --channels).")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.version == "" || o.image == "" {
		return o, fmt.Errorf("--version and --image are required")
	}
	for _, c := range strings.Split(channels, ",") {
		if c = strings.TrimSpace(c); c != "" {
			o.channels = append(o.channels, c)
		}
	}
	if len(o.channels) == 0 {
		return o, fmt.Errorf("--channels: at least one channel is required")
	}
	if o.defaultChannel == "" {
		o.defaultChannel = o.channels[0]
	}
	return o, nil
}

// run renders the manifests, builds the bundle in memory and only then writes
// it, so a failed run leaves the previous bundle untouched.
func run(o options) error {
	objs, err := renderKustomization(o.kustomize, o.manifestsDir)
	if err != nil {
		return err
	}
	base, err := readCSVBase(o.csvBase)
	if err != nil {
		return err
	}
	examples, err := readSamples(o.samplesDir)
	if err != nil {
		return err
	}
	b, err := buildBundle(bundleInput{
		objects:  objs,
		csvBase:  base,
		examples: examples,
		version:  o.version,
		image:    o.image,
		replaces: o.replaces,
	})
	if err != nil {
		return err
	}
	for _, w := range b.warnings {
		fmt.Fprintln(os.Stderr, "bundle: note:", w)
	}
	meta := bundleMetadata{pkg: o.pkg, channels: o.channels, defaultChannel: o.defaultChannel}
	return writeBundle(o.outputDir, b, meta)
}
