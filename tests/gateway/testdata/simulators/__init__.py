"""A stand-in for the simulators package, so that the gateway CLI can be run
end to end without depending on the real simulators."""
