# mediagate's Windows helper. Started by mediagate as
#   powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -File helper.ps1
# and kept running; it reads one JSON request per line on stdin and writes one
# JSON object per line on stdout (UTF-8 both ways). The protocol is described in
# src/core/players/windows/protocol.ts:
#   first line   {"type":"ready","version":1,"powershell":"5.1...","winrt":true,"error":null}
#   answers      {"id":N,"ok":true,"result":...} or {"id":N,"ok":false,"error":{"code":"...","message":"..."}}
#   after watch  {"type":"event","event":"sessions"|"session"|"volume","session":"..."}
# It ends when its stdin ends. Windows PowerShell 5.1 (powershell.exe), not
# PowerShell 7: the media sessions are WinRT types, which only 5.1 projects.
# This file is ASCII on purpose: PowerShell 5.1 reads a script without a byte
# order mark in the ANSI code page, and ASCII reads the same in every one.

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2

$utf8 = New-Object System.Text.UTF8Encoding $false
[Console]::InputEncoding = $utf8
[Console]::OutputEncoding = $utf8
$script:out = New-Object System.IO.StreamWriter ([Console]::OpenStandardOutput()), $utf8
$script:out.AutoFlush = $true
$script:in = New-Object System.IO.StreamReader ([Console]::OpenStandardInput()), $utf8

# How long one WinRT call may take inside the helper; mediagate has its own,
# shorter, limit and ends the helper when that passes.
$script:awaitMs = 15000

function Send($obj) {
  $script:out.WriteLine((ConvertTo-Json -InputObject $obj -Compress -Depth 8))
}

function Fail([string]$code, [string]$message) {
  $ex = New-Object System.Exception $message
  $ex.Data['mgcode'] = $code
  throw $ex
}

# --- WinRT: the media sessions -------------------------------------------------

$script:winrt = $false
$script:winrtError = $null
$script:asTaskOp = $null
try {
  Add-Type -AssemblyName System.Runtime.WindowsRuntime
  $null = [Windows.Media.Control.GlobalSystemMediaTransportControlsSessionManager, Windows.Media.Control, ContentType = WindowsRuntime]
  $null = [Windows.Media.MediaPlaybackAutoRepeatMode, Windows.Media, ContentType = WindowsRuntime]
  $null = [Windows.Storage.Streams.DataReader, Windows.Storage.Streams, ContentType = WindowsRuntime]
  $script:asTaskOp = [System.WindowsRuntimeSystemExtensions].GetMethods() | Where-Object {
    $_.Name -eq 'AsTask' -and $_.GetParameters().Count -eq 1 -and $_.GetParameters()[0].ParameterType.Name -eq 'IAsyncOperation`1'
  } | Select-Object -First 1
  $script:winrt = $true
} catch {
  $script:winrtError = $_.Exception.Message
}

# Wait for a WinRT IAsyncOperation<T> (the AsTask pattern of System.Runtime.WindowsRuntime).
function Await($operation, [Type]$resultType) {
  $task = $script:asTaskOp.MakeGenericMethod($resultType).Invoke($null, @($operation))
  if (-not $task.Wait($script:awaitMs)) { Fail 'timeout' 'the app did not answer in time' }
  return $task.Result
}

$script:manager = $null
function Manager {
  if (-not $script:winrt) { Fail 'no_winrt' "WinRT is not available: $script:winrtError" }
  if ($null -eq $script:manager) {
    $type = [Windows.Media.Control.GlobalSystemMediaTransportControlsSessionManager]
    $script:manager = Await ($type::RequestAsync()) $type
  }
  return $script:manager
}

# Sessions with ids: the app user model id, and its number among sessions of that app.
function SessionEntries {
  $entries = New-Object System.Collections.ArrayList
  $counts = @{}
  foreach ($s in @((Manager).GetSessions())) {
    $app = [string]$s.SourceAppUserModelId
    if ($counts.ContainsKey($app)) { $counts[$app] = $counts[$app] + 1 } else { $counts[$app] = 1 }
    $null = $entries.Add(@{ id = ($app + '#' + $counts[$app]); session = $s })
  }
  return ,$entries
}

function FindSession([string]$id) {
  foreach ($e in (SessionEntries)) { if ($e.id -eq $id) { return $e.session } }
  Fail 'session.not_found' "the media session '$id' has closed"
}

function IsoUtc($dateTimeOffset) {
  return $dateTimeOffset.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", [System.Globalization.CultureInfo]::InvariantCulture)
}

function MediaProperties($s) {
  try {
    return Await ($s.TryGetMediaPropertiesAsync()) ([Windows.Media.Control.GlobalSystemMediaTransportControlsSessionMediaProperties])
  } catch {
    return $null
  }
}

function Describe($entry, [string]$currentApp) {
  $s = $entry.session
  $p = MediaProperties $s
  $pb = $s.GetPlaybackInfo()
  $tl = $s.GetTimelineProperties()
  $c = $pb.Controls
  $repeat = $null
  if ($null -ne $pb.AutoRepeatMode) { $repeat = [string]$pb.AutoRepeatMode }
  $genres = New-Object System.Collections.ArrayList
  $title = $null; $artist = $null; $album = $null; $albumArtist = $null; $track = $null; $type = $null; $subtitle = $null; $thumb = $false
  if ($null -ne $p) {
    $title = $p.Title; $artist = $p.Artist; $album = $p.AlbumTitle; $albumArtist = $p.AlbumArtist
    $track = $p.TrackNumber; $subtitle = $p.Subtitle; $thumb = ($null -ne $p.Thumbnail)
    if ($null -ne $p.PlaybackType) { $type = [string]$p.PlaybackType }
    foreach ($g in @($p.Genres)) { if ($null -ne $g) { $null = $genres.Add([string]$g) } }
  }
  return @{
    id = $entry.id
    app = [string]$s.SourceAppUserModelId
    current = ([string]$s.SourceAppUserModelId -eq $currentApp)
    title = $title
    artist = $artist
    albumTitle = $album
    albumArtist = $albumArtist
    trackNumber = $track
    genres = $genres
    playbackType = $type
    subtitle = $subtitle
    hasThumbnail = $thumb
    playback = @{
      status = [string]$pb.PlaybackStatus
      autoRepeat = $repeat
      shuffle = $pb.IsShuffleActive
      rate = $pb.PlaybackRate
      controls = @{
        play = $c.IsPlayEnabled
        pause = $c.IsPauseEnabled
        stop = $c.IsStopEnabled
        toggle = $c.IsPlayPauseToggleEnabled
        next = $c.IsNextEnabled
        previous = $c.IsPreviousEnabled
        seek = $c.IsPlaybackPositionEnabled
        shuffle = $c.IsShuffleEnabled
        repeat = $c.IsRepeatEnabled
      }
    }
    timeline = @{
      startTicks = $tl.StartTime.Ticks
      endTicks = $tl.EndTime.Ticks
      positionTicks = $tl.Position.Ticks
      minSeekTicks = $tl.MinSeekTime.Ticks
      maxSeekTicks = $tl.MaxSeekTime.Ticks
      lastUpdated = (IsoUtc $tl.LastUpdatedTime)
    }
  }
}

function Sessions {
  $m = Manager
  $current = ''
  $cur = $m.GetCurrentSession()
  if ($null -ne $cur) { $current = [string]$cur.SourceAppUserModelId }
  $list = New-Object System.Collections.ArrayList
  foreach ($e in (SessionEntries)) { $null = $list.Add((Describe $e $current)) }
  return @{ sessions = $list }
}

function Done($ok, [string]$what) {
  if (-not $ok) { Fail 'refused' "the app refused $what" }
  return @{ done = $true }
}

function Control($req) {
  $s = FindSession $req.session
  switch ([string]$req.action) {
    'play' { $op = $s.TryPlayAsync() }
    'pause' { $op = $s.TryPauseAsync() }
    'toggle' { $op = $s.TryTogglePlayPauseAsync() }
    'stop' { $op = $s.TryStopAsync() }
    'next' { $op = $s.TrySkipNextAsync() }
    'previous' { $op = $s.TrySkipPreviousAsync() }
    default { Fail 'bad_request' "unknown action '$($req.action)'" }
  }
  return Done (Await $op ([bool])) ([string]$req.action)
}

function Seek($req) {
  $s = FindSession $req.session
  # TryChangePlaybackPositionAsync takes the position in ticks (100 ns).
  return Done (Await ($s.TryChangePlaybackPositionAsync([long]$req.ticks)) ([bool])) 'the seek'
}

function Shuffle($req) {
  $s = FindSession $req.session
  return Done (Await ($s.TryChangeShuffleActiveAsync([bool]$req.on)) ([bool])) 'shuffle'
}

function Repeat($req) {
  $s = FindSession $req.session
  $mode = [Windows.Media.MediaPlaybackAutoRepeatMode]([string]$req.mode)
  return Done (Await ($s.TryChangeAutoRepeatModeAsync($mode)) ([bool])) 'repeat'
}

function Artwork($req) {
  $s = FindSession $req.session
  $p = MediaProperties $s
  if ($null -eq $p -or $null -eq $p.Thumbnail) { return $null }
  $stream = Await ($p.Thumbnail.OpenReadAsync()) ([Windows.Storage.Streams.IRandomAccessStreamWithContentType])
  try {
    $size = [uint32][Math]::Min([double]$stream.Size, 10485760)
    $reader = New-Object Windows.Storage.Streams.DataReader ($stream.GetInputStreamAt(0))
    $n = Await ($reader.LoadAsync($size)) ([uint32])
    $bytes = New-Object byte[] $n
    $reader.ReadBytes($bytes)
    return @{ mimeType = [string]$stream.ContentType; base64 = [Convert]::ToBase64String($bytes) }
  } finally {
    $stream.Dispose()
  }
}

# --- Core Audio: the default playback device's volume -----------------------------

$script:audio = $false
$script:audioError = $null
$audioSource = @'
using System;
using System.Runtime.InteropServices;

namespace Mediagate {
  [ComImport, Guid("5CDF2C82-841E-4546-9722-0CF74078229A"), InterfaceType(ComInterfaceType.InterfaceIsIUnknown)]
  public interface IAudioEndpointVolume {
    void RegisterControlChangeNotify(IAudioEndpointVolumeCallback notify);
    void UnregisterControlChangeNotify(IAudioEndpointVolumeCallback notify);
    void GetChannelCount(out uint count);
    void SetMasterVolumeLevel(float levelDb, ref Guid context);
    void SetMasterVolumeLevelScalar(float level, ref Guid context);
    void GetMasterVolumeLevel(out float levelDb);
    void GetMasterVolumeLevelScalar(out float level);
    void SetChannelVolumeLevel(uint channel, float levelDb, ref Guid context);
    void SetChannelVolumeLevelScalar(uint channel, float level, ref Guid context);
    void GetChannelVolumeLevel(uint channel, out float levelDb);
    void GetChannelVolumeLevelScalar(uint channel, out float level);
    void SetMute([MarshalAs(UnmanagedType.Bool)] bool mute, ref Guid context);
    void GetMute([MarshalAs(UnmanagedType.Bool)] out bool mute);
  }

  [ComImport, Guid("657804FA-D6AD-4496-8A60-352752AF4F89"), InterfaceType(ComInterfaceType.InterfaceIsIUnknown)]
  public interface IAudioEndpointVolumeCallback {
    [PreserveSig] int OnNotify(IntPtr data);
  }

  [ComImport, Guid("D666063F-1587-4E43-81F1-B948E807363F"), InterfaceType(ComInterfaceType.InterfaceIsIUnknown)]
  public interface IMMDevice {
    void Activate(ref Guid iid, int context, IntPtr parameters, [MarshalAs(UnmanagedType.IUnknown)] out object target);
    void OpenPropertyStore(int access, out IntPtr store);
    void GetId([MarshalAs(UnmanagedType.LPWStr)] out string id);
  }

  [ComImport, Guid("A95664D2-9614-4F35-A746-DE8DB63617E6"), InterfaceType(ComInterfaceType.InterfaceIsIUnknown)]
  public interface IMMDeviceEnumerator {
    void EnumAudioEndpoints(int dataFlow, int stateMask, out IntPtr devices);
    void GetDefaultAudioEndpoint(int dataFlow, int role, out IMMDevice device);
  }

  [ComImport, Guid("BCDE0395-E52F-467C-8E3D-C4579291692E")]
  public class MMDeviceEnumerator { }

  public class Endpoint : IAudioEndpointVolumeCallback {
    private IAudioEndpointVolume volume;
    private bool watching;
    public string Id;
    public event EventHandler Changed;

    // eRender = 0, eMultimedia = 1, CLSCTX_ALL = 23.
    public static Endpoint Default() {
      IMMDeviceEnumerator devices = (IMMDeviceEnumerator)(new MMDeviceEnumerator());
      IMMDevice device;
      devices.GetDefaultAudioEndpoint(0, 1, out device);
      Guid iid = typeof(IAudioEndpointVolume).GUID;
      object o;
      device.Activate(ref iid, 23, IntPtr.Zero, out o);
      Endpoint e = new Endpoint();
      e.volume = (IAudioEndpointVolume)o;
      device.GetId(out e.Id);
      return e;
    }

    public float Level { get { float l; volume.GetMasterVolumeLevelScalar(out l); return l; } }
    public bool Muted { get { bool m; volume.GetMute(out m); return m; } }
    public void SetLevel(float level) { Guid g = Guid.Empty; volume.SetMasterVolumeLevelScalar(level, ref g); }
    public void SetMuted(bool mute) { Guid g = Guid.Empty; volume.SetMute(mute, ref g); }
    public void Watch() { if (!watching) { volume.RegisterControlChangeNotify(this); watching = true; } }
    public void Unwatch() { if (watching) { volume.UnregisterControlChangeNotify(this); watching = false; } }
    public int OnNotify(IntPtr data) { EventHandler h = Changed; if (h != null) h(this, EventArgs.Empty); return 0; }
  }
}
'@

# Compiled on the first volume request only: Add-Type costs 0.2-0.4 s, which
# a player command should not pay.
function Audio {
  if (-not $script:audio) {
    if ($null -ne $script:audioError) { Fail 'no_audio' $script:audioError }
    try {
      Add-Type -TypeDefinition $audioSource -Language CSharp
      $script:audio = $true
    } catch {
      $script:audioError = "Core Audio is not reachable: $($_.Exception.Message)"
      Fail 'no_audio' $script:audioError
    }
  }
  try {
    $e = [Mediagate.Endpoint]::Default()
  } catch {
    Fail 'volume.no_device' "no default playback device: $($_.Exception.Message)"
  }
  return $e
}

$script:endpoint = $null
# The endpoint being watched follows the default device: re-registered when it changed.
function WatchedEndpoint {
  $e = Audio
  if ($script:watching -and ($null -eq $script:endpoint -or $script:endpoint.Id -ne $e.Id)) {
    if ($null -ne $script:endpoint) {
      try { $script:endpoint.Unwatch() } catch { }
      Unregister-Event -SourceIdentifier 'mg.volume' -ErrorAction SilentlyContinue
    }
    $e.Watch()
    $null = Register-ObjectEvent -InputObject $e -EventName Changed -SourceIdentifier 'mg.volume'
    $script:endpoint = $e
  }
  return $e
}

function VolumeGet {
  $e = WatchedEndpoint
  return @{ level = [Math]::Round([double]$e.Level * 100); muted = [bool]$e.Muted }
}

function VolumeSet($req) {
  $level = [double]$req.level
  if ($level -lt 0 -or $level -gt 100) { Fail 'bad_request' "volume $level is outside 0-100" }
  $e = WatchedEndpoint
  $e.SetLevel([float]($level / 100))
  return @{ done = $true }
}

function VolumeMute($req) {
  $e = WatchedEndpoint
  $e.SetMuted([bool]$req.muted)
  return @{ done = $true }
}

# --- Change events ------------------------------------------------------------

$script:watching = $false
$script:watched = @{}

# One subscription per session event; renewed when the set of sessions changes.
function WatchSessions {
  foreach ($key in @($script:watched.Keys)) {
    foreach ($sid in $script:watched[$key]) { Unregister-Event -SourceIdentifier $sid -ErrorAction SilentlyContinue }
  }
  $script:watched = @{}
  $n = 0
  foreach ($e in (SessionEntries)) {
    $ids = New-Object System.Collections.ArrayList
    foreach ($name in @('MediaPropertiesChanged', 'PlaybackInfoChanged', 'TimelinePropertiesChanged')) {
      $n = $n + 1
      $sid = "mg.session.$n"
      $null = Register-ObjectEvent -InputObject $e.session -EventName $name -SourceIdentifier $sid -MessageData $e.id
      $null = $ids.Add($sid)
    }
    $script:watched[$e.id] = $ids
  }
}

function Watch {
  if (-not $script:watching) {
    $script:watching = $true
    if ($script:winrt) {
      $m = Manager
      $null = Register-ObjectEvent -InputObject $m -EventName SessionsChanged -SourceIdentifier 'mg.sessions'
      $null = Register-ObjectEvent -InputObject $m -EventName CurrentSessionChanged -SourceIdentifier 'mg.current'
      WatchSessions
    }
    try { $null = WatchedEndpoint } catch { }
  }
  return @{ watching = $true }
}

function Probe {
  $sessions = $null
  $sessionsError = $null
  try { $sessions = @((Manager).GetSessions()).Count } catch { $sessionsError = $_.Exception.Message }
  $volume = $null
  $volumeError = $null
  try { $volume = VolumeGet } catch { $volumeError = $_.Exception.Message }
  return @{
    powershell = $PSVersionTable.PSVersion.ToString()
    edition = [string]$PSVersionTable.PSEdition
    os = [Environment]::OSVersion.VersionString
    winrt = $script:winrt
    winrtError = $script:winrtError
    sessions = $sessions
    sessionsError = $sessionsError
    volume = $volume
    volumeError = $volumeError
    interactive = [Environment]::UserInteractive
    windowsSession = (Get-Process -Id $PID).SessionId
  }
}

# --- The request loop -----------------------------------------------------------

function Handle([string]$line) {
  $req = $null
  try { $req = ConvertFrom-Json $line } catch { [Console]::Error.WriteLine("not JSON: $line"); return }
  $id = $req.id
  try {
    $result = $null
    switch ([string]$req.type) {
      'sessions' { $result = Sessions }
      'control' { $result = Control $req }
      'seek' { $result = Seek $req }
      'shuffle' { $result = Shuffle $req }
      'repeat' { $result = Repeat $req }
      'artwork' { $result = Artwork $req }
      'volume.get' { $result = VolumeGet }
      'volume.set' { $result = VolumeSet $req }
      'volume.mute' { $result = VolumeMute $req }
      'watch' { $result = Watch }
      'probe' { $result = Probe }
      default { Fail 'unknown_request' "unknown request type '$($req.type)'" }
    }
    Send @{ id = $id; ok = $true; result = $result }
  } catch {
    $code = 'failed'
    if ($_.Exception.Data.Contains('mgcode')) { $code = [string]$_.Exception.Data['mgcode'] }
    Send @{ id = $id; ok = $false; error = @{ code = $code; message = [string]$_.Exception.Message } }
  }
}

# stdin is read on a second runspace, which hands each line over as a .NET
# event (ObservableCollection.CollectionChanged): the main loop then waits for
# the next request or change event alike, with no timer.
$lines = New-Object 'System.Collections.ObjectModel.ObservableCollection[string]'
$null = Register-ObjectEvent -InputObject $lines -EventName CollectionChanged -SourceIdentifier 'mg.stdin'
$reader = [PowerShell]::Create()
$null = $reader.AddScript({
  param($in, $lines)
  while ($true) {
    $l = $in.ReadLine()
    if ($null -eq $l) { $lines.Add([string][char]4); break }
    $lines.Add($l)
    $lines.Clear()
  }
}).AddArgument($script:in).AddArgument($lines)
$null = $reader.BeginInvoke()

$psVersion = $PSVersionTable.PSVersion.ToString()
Send @{ type = 'ready'; version = 1; powershell = $psVersion; winrt = $script:winrt; error = $script:winrtError }

while ($true) {
  $ev = Wait-Event
  Remove-Event -EventIdentifier $ev.EventIdentifier
  $source = [string]$ev.SourceIdentifier
  if ($source -eq 'mg.stdin') {
    if ([string]$ev.SourceEventArgs.Action -ne 'Add') { continue }
    $line = [string]$ev.SourceEventArgs.NewItems[0]
    if ($line -eq [string][char]4) { break }
    if ($line.Trim() -ne '') { Handle $line }
  } elseif ($source -eq 'mg.sessions') {
    try { WatchSessions } catch { }
    Send @{ type = 'event'; event = 'sessions' }
  } elseif ($source -eq 'mg.current') {
    Send @{ type = 'event'; event = 'sessions' }
  } elseif ($source -eq 'mg.volume') {
    Send @{ type = 'event'; event = 'volume' }
  } elseif ($source.StartsWith('mg.session.')) {
    Send @{ type = 'event'; event = 'session'; session = [string]$ev.MessageData }
  }
}

foreach ($s in @(Get-EventSubscriber)) { Unregister-Event -SubscriptionId $s.SubscriptionId -ErrorAction SilentlyContinue }
