"""Who may call: organisers' keys (org_keys), runners' links (runner_links), per-client limits
(ratelimit)."""
