export { RelayProcess, RELAY_MAIN } from '@tandem/device/relay-process'
