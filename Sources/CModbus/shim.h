// libmodbus (RTU over RS-485 and TCP). Its 3.1.6 modbus_set_float_* helpers are
// broken: floats are decoded and encoded in Swift, never through them.
#include <modbus/modbus.h>
