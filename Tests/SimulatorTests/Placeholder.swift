// Tests for Simulator land with it.
