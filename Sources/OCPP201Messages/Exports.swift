// Every API of this module speaks JSONValue; importing the messages should be enough to use them.
@_exported import OCPPJSON
