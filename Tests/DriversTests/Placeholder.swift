// Tests for Drivers land with it.
