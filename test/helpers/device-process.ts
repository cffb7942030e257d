// Tests drive real device processes with the same client the `npm start` launcher uses.
export { DeviceProcess, DEVICE_MAIN, type DeviceEvent } from '@tandem/device/device-process'
