// Tests land with Station.
