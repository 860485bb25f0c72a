package rules

import (
	"fmt"
	"os"
	"strings"

	"shopedge/proxy/identity"
)

// LoadKeys reads the identity keys a configuration names, from the
// environment (getenv, usually os.Getenv) or from files (named as given,
// relative to the working directory). On failure the error is a Problems
// naming the configuration line of each key it could not read: a secret
// missing, unreadable, or shorter than identity.MinSecretLen.
func LoadKeys(c *Compiled, getenv func(string) string) ([]identity.Key, error) {
	var keys []identity.Key
	var probs Problems
	for i, k := range c.Identity.Keys {
		field := fmt.Sprintf("identity.keys[%d]", i)
		var secret []byte
		switch {
		case k.SecretEnv != "":
			secret = []byte(strings.TrimSpace(getenv(k.SecretEnv)))
			if len(secret) == 0 {
				probs = append(probs, c.Problem(field+".secret_env", "environment variable %s is not set; put a random secret of at least %d bytes in it (for example: openssl rand -base64 48)", k.SecretEnv, identity.MinSecretLen))
				continue
			}
		default:
			b, err := os.ReadFile(k.SecretFile)
			if err != nil {
				probs = append(probs, c.Problem(field+".secret_file", "cannot read the secret: %v", err))
				continue
			}
			secret = []byte(strings.TrimSpace(string(b)))
		}
		if len(secret) < identity.MinSecretLen {
			probs = append(probs, c.Problem(field, "secret of key %q is %d bytes; use at least %d random bytes", k.ID, len(secret), identity.MinSecretLen))
			continue
		}
		keys = append(keys, identity.Key{ID: k.ID, Secret: secret})
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return keys, nil
}
