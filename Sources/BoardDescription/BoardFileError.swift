import ConfigFile

/// What is wrong with a board file or a meter map, and where (`FILE:LINE: field: what was
/// expected`): the shared configuration-file error, under the name board code reads best.
public typealias BoardFileError = ConfigFileError

/// The fields of one mapping of a board file or a meter map.
typealias Fields = ConfigFields
