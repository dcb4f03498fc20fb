@_exported import BridgesAPI
@_exported import CurlParsing
@_exported import HTTPTransport
