// Tests land with Storage.
