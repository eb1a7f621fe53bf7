"""The gateway's configuration: one TOML file, validated at start."""
