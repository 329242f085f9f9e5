"""Default training configs, one YAML file per model; shipped as package data."""
