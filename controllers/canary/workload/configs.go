package workload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	meshv1alpha1 "github.com/sluicemesh/sluice/api/v1alpha1"
)

// configKind is ConfigMap or Secret.
type configKind string

const (
	kindConfigMap configKind = "ConfigMap"
	kindSecret    configKind = "Secret"
)

// configRef is a ConfigMap or Secret a pod template references.
type configRef struct {
	kind configKind
	name string
}

// key is how status.trackedConfigs names the config: `ConfigMap/<name>`.
func (r configRef) key() string { return string(r.kind) + "/" + r.name }

// trackedConfig is a referenced config that exists, with its content.
type trackedConfig struct {
	ref       configRef
	configMap *corev1.ConfigMap
	secret    *corev1.Secret
	checksum  string
}

// configReferences lists the ConfigMaps and Secrets spec references (env
// valueFrom, envFrom, volumes, projected volumes; of containers and init
// containers), each once, with optional true when every reference to it is
// optional. Image pull secrets are not configuration and are left alone.
func configReferences(spec *corev1.PodSpec) map[configRef]bool {
	refs := map[configRef]bool{}
	add := func(kind configKind, name string, optional *bool) {
		if name == "" {
			return
		}
		ref := configRef{kind: kind, name: name}
		opt := optional != nil && *optional
		if prev, seen := refs[ref]; seen {
			opt = prev && opt
		}
		refs[ref] = opt
	}
	forEachConfigRef(spec, func(kind configKind, name *string, optional *bool) { add(kind, *name, optional) })
	return refs
}

// forEachConfigRef calls visit with a pointer to the name of every config
// reference in spec, so one walk serves both listing and renaming.
func forEachConfigRef(spec *corev1.PodSpec, visit func(kind configKind, name *string, optional *bool)) {
	containers := func(list []corev1.Container) {
		for i := range list {
			ctr := &list[i]
			for j := range ctr.Env {
				if from := ctr.Env[j].ValueFrom; from != nil {
					if r := from.ConfigMapKeyRef; r != nil {
						visit(kindConfigMap, &r.Name, r.Optional)
					}
					if r := from.SecretKeyRef; r != nil {
						visit(kindSecret, &r.Name, r.Optional)
					}
				}
			}
			for j := range ctr.EnvFrom {
				if r := ctr.EnvFrom[j].ConfigMapRef; r != nil {
					visit(kindConfigMap, &r.Name, r.Optional)
				}
				if r := ctr.EnvFrom[j].SecretRef; r != nil {
					visit(kindSecret, &r.Name, r.Optional)
				}
			}
		}
	}
	containers(spec.InitContainers)
	containers(spec.Containers)
	for i := range spec.Volumes {
		v := &spec.Volumes[i].VolumeSource
		if v.ConfigMap != nil {
			visit(kindConfigMap, &v.ConfigMap.Name, v.ConfigMap.Optional)
		}
		if v.Secret != nil {
			visit(kindSecret, &v.Secret.SecretName, v.Secret.Optional)
		}
		if v.Projected != nil {
			for j := range v.Projected.Sources {
				s := &v.Projected.Sources[j]
				if s.ConfigMap != nil {
					visit(kindConfigMap, &s.ConfigMap.Name, s.ConfigMap.Optional)
				}
				if s.Secret != nil {
					visit(kindSecret, &s.Secret.Name, s.Secret.Optional)
				}
			}
		}
	}
}

// trackedConfigs reads the configs spec references. An optional one that
// does not exist is skipped (the pods run without it, and so does the
// primary, which keeps the original name); a required one that does not
// exist is an error, since the pods could not start either.
func (w *Workloads) trackedConfigs(ctx context.Context, namespace string, spec *corev1.PodSpec) ([]trackedConfig, error) {
	refs := configReferences(spec)
	ordered := slices.SortedFunc(maps.Keys(refs), func(a, b configRef) int { return strings.Compare(a.key(), b.key()) })
	var out []trackedConfig
	for _, ref := range ordered {
		key := types.NamespacedName{Namespace: namespace, Name: ref.name}
		tc := trackedConfig{ref: ref}
		var err error
		switch ref.kind {
		case kindConfigMap:
			tc.configMap = &corev1.ConfigMap{}
			err = w.reader.Get(ctx, key, tc.configMap)
		case kindSecret:
			tc.secret = &corev1.Secret{}
			err = w.reader.Get(ctx, key, tc.secret)
		}
		if apierrors.IsNotFound(err) && refs[ref] {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s %s/%s referenced by the target: %w", ref.kind, namespace, ref.name, err)
		}
		tc.checksum = tc.sum()
		out = append(out, tc)
	}
	return out, nil
}

// sum is a checksum of what the pods see: data and binaryData of a
// ConfigMap, type and data of a Secret. A Secret deleted and created again
// counts as changed.
func (tc trackedConfig) sum() string {
	h := sha256.New()
	write := func(section string, m map[string][]byte) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			fmt.Fprintf(h, "%s\x00%s\x00%d\x00", section, k, len(m[k]))
			h.Write(m[k])
		}
	}
	if cm := tc.configMap; cm != nil {
		data := make(map[string][]byte, len(cm.Data))
		for k, v := range cm.Data {
			data[k] = []byte(v)
		}
		write("data", data)
		write("binaryData", cm.BinaryData)
	}
	if s := tc.secret; s != nil {
		// Salted with the Secret's UID, which only those who may read the
		// Secret know: status (readable by whoever reads Canaries) must not
		// let anyone test guesses of a weak password against the checksum.
		fmt.Fprintf(h, "uid\x00%s\x00type\x00%s\x00", s.UID, s.Type)
		write("data", s.Data)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// checksums are the trackedConfigs map of status: key -> checksum.
func checksums(configs []trackedConfig) map[string]string {
	out := make(map[string]string, len(configs))
	for _, tc := range configs {
		out[tc.ref.key()] = tc.checksum
	}
	return out
}

// configsChecksum sums the checksums of all configs, for
// ConfigChecksumAnnotation.
func configsChecksum(configs []trackedConfig) string {
	h := sha256.New()
	for _, tc := range configs { // sorted by key already
		fmt.Fprintf(h, "%s=%s\x00", tc.ref.key(), tc.checksum)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// copyConfigs writes the primary's copy `<name>-primary` of each config,
// with the original's content, labels and annotations, controlled by the
// Canary. `immutable` is not copied: the copy must take the next promotion.
func (w *Workloads) copyConfigs(ctx context.Context, c *meshv1alpha1.Canary, configs []trackedConfig) error {
	for _, tc := range configs {
		var existing, desired client.Object
		switch {
		case tc.configMap != nil:
			existing = &corev1.ConfigMap{}
			desired = &corev1.ConfigMap{
				TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
				ObjectMeta: copyMeta(c, tc.configMap.ObjectMeta),
				Data:       tc.configMap.Data,
				BinaryData: tc.configMap.BinaryData,
			}
		case tc.secret != nil:
			existing = &corev1.Secret{}
			desired = &corev1.Secret{
				TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
				ObjectMeta: copyMeta(c, tc.secret.ObjectMeta),
				Type:       tc.secret.Type,
				Data:       tc.secret.Data,
			}
		}
		err := w.reader.Get(ctx, client.ObjectKeyFromObject(desired), existing)
		switch {
		case err == nil:
			if err := checkOwner(existing, c); err != nil {
				return err
			}
		case !apierrors.IsNotFound(err):
			return fmt.Errorf("read %s %s/%s: %w", tc.ref.kind, c.Namespace, desired.GetName(), err)
		}
		if err := apply(ctx, w.client, desired, nil); err != nil {
			return err
		}
	}
	return nil
}

// copyMeta is the metadata of the primary's copy of an object.
func copyMeta(c *meshv1alpha1.Canary, original metav1.ObjectMeta) metav1.ObjectMeta {
	return ourMeta(c, primaryCopyName(original.Name), original.Labels, copiedAnnotations(original.Annotations))
}

// copiedAnnotations drops what describes the original object rather than
// its content: kubectl's last applied configuration and our own
// sluice.dev/* annotations.
func copiedAnnotations(in map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range in {
		if k == corev1.LastAppliedConfigAnnotation || strings.HasPrefix(k, sluiceAnnotationPrefix) {
			continue
		}
		out[k] = v
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// usePrimaryConfigs points spec's references to the copied configs at their
// `-primary` copies; references to configs that were not copied (optional
// and missing) keep their name.
func usePrimaryConfigs(spec *corev1.PodSpec, configs []trackedConfig) {
	copied := map[configRef]bool{}
	for _, tc := range configs {
		copied[tc.ref] = true
	}
	forEachConfigRef(spec, func(kind configKind, name *string, _ *bool) {
		if copied[configRef{kind: kind, name: *name}] {
			*name = primaryCopyName(*name)
		}
	})
}

// adoptConfigCopies makes the Canary the controller of the config copies
// spec references that an earlier Canary of the same name left behind (see
// CanaryAnnotation). Their content is not touched: it changes only by
// Promote. Anything else spec references is left alone.
func (w *Workloads) adoptConfigCopies(ctx context.Context, c *meshv1alpha1.Canary, spec *corev1.PodSpec) error {
	for ref := range configReferences(spec) {
		var obj client.Object = &corev1.ConfigMap{}
		if ref.kind == kindSecret {
			obj = &corev1.Secret{}
		}
		if err := w.reader.Get(ctx, types.NamespacedName{Namespace: c.Namespace, Name: ref.name}, obj); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return fmt.Errorf("read %s %s/%s: %w", ref.kind, c.Namespace, ref.name, err)
		}
		if metav1.GetControllerOf(obj) != nil || obj.GetAnnotations()[CanaryAnnotation] != c.Name {
			continue
		}
		patch := client.MergeFromWithOptions(obj.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
		obj.SetOwnerReferences(append(obj.GetOwnerReferences(), ownerReference(c)))
		if err := w.client.Patch(ctx, obj, patch, client.FieldOwner(FieldManager)); err != nil {
			return fmt.Errorf("adopt %s %s/%s: %w", ref.kind, c.Namespace, ref.name, err)
		}
	}
	return nil
}
