"""The bad-input corpus (targets.md, reliability: ≥ 200 cases refused cleanly)."""
