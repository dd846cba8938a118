// Tests for HALLinux land with it.
