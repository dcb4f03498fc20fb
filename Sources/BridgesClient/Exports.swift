@_exported import BridgesAPI
@_exported import HTTPTransport
