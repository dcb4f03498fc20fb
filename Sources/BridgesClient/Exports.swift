@_exported import BridgesAPI
