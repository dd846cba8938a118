// Tests for BoardDescription land with it.
