import ChargingCore
import Drivers
import HAL
