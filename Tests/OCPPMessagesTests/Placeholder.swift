// Tests land with their target.
