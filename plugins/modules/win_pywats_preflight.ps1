#!powershell

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell Ansible.ModuleUtils.AddType

# Read-only checks of a Windows station before the pyWATS client is installed. Every check is a
# small function that returns a result from New-CheckResult; Invoke-PreflightCheck records it.
# Written for Windows PowerShell 5.1: no ternaries, no null-coalescing, no pipeline chain operators.

# Run order and severity of every check. The keys are also the choices of the skip option
# (as object[]: Ansible.Basic rejects a string[] there).
$CheckSeverity = [ordered]@{
    administrator = 'error'
    python = 'error'
    disk_space = 'error'
    server_dns = 'error'
    server_tcp = 'error'
    server_tls = 'error'
    server_api = 'error'
    clock_skew = 'warning'
    health_port = 'error'
    uwf = 'error'
    pending_reboot = 'warning'
    execution_policy = 'warning'
    defender = 'warning'
}

$spec = @{
    options = @{
        python = @{ type = 'path' }
        python_min = @{ type = 'str'; default = '3.10' }
        python_installer = @{ type = 'str' }
        install_dir = @{ type = 'path'; default = 'C:\Program Files\pyWATS' }
        data_dir = @{ type = 'path'; default = '%PROGRAMDATA%\pyWATS' }
        watch_folders = @{ type = 'list'; elements = 'path'; default = @() }
        min_free_mb_install = @{ type = 'int'; default = 600 }
        min_free_mb_data = @{ type = 'int'; default = 200 }
        min_free_mb_watch = @{ type = 'int'; default = 100 }
        server_url = @{ type = 'str' }
        api_token = @{ type = 'str'; no_log = $true }
        ca_bundle = @{ type = 'str' }
        validate_certs = @{ type = 'bool'; default = $true }
        proxy = @{ type = 'str'; no_log = $true }
        no_proxy = @{ type = 'list'; elements = 'str'; default = @() }
        timeout = @{ type = 'int'; default = 10 }
        max_clock_skew = @{ type = 'int'; default = 300 }
        health_port = @{ type = 'int' }
        service_name = @{ type = 'str'; default = 'pyWATS_Service' }
        skip = @{ type = 'list'; elements = 'str'; default = @(); choices = @($CheckSeverity.Keys) }
    }
    supports_check_mode = $true
}

$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$ErrorActionPreference = 'Stop'

$ServerChecks = @('server_dns', 'server_tcp', 'server_tls', 'server_api', 'clock_skew')
$PythonProbe = "import sys, struct; print('%d.%d.%d %d' % (tuple(sys.version_info[:3]) + (struct.calcsize('P') * 8,)))"
$Mib = 1048576

# Native calls and the certificate callback live in C#: a PowerShell script block given to .NET as
# a validation callback can be called on a thread without a runspace, and then fails.
$csharp = @'
using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Net.Security;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Virinco.Pywats.Preflight
{
    internal static class NativeMethods
    {
        [DllImport("kernel32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
        [return: MarshalAs(UnmanagedType.Bool)]
        public static extern bool GetDiskFreeSpaceExW(string lpDirectoryName, out ulong lpFreeBytesAvailable,
            out ulong lpTotalNumberOfBytes, out ulong lpTotalNumberOfFreeBytes);

        [DllImport("kernel32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
        [return: MarshalAs(UnmanagedType.Bool)]
        public static extern bool GetVolumePathNameW(string lpszFileName, StringBuilder lpszVolumePathName,
            uint cchBufferLength);
    }

    public static class Disk
    {
        // Bytes free to the caller (quotas count), on the volume or mount point that holds path.
        public static ulong FreeBytes(string path)
        {
            ulong free, total, totalFree;
            if (!NativeMethods.GetDiskFreeSpaceExW(path, out free, out total, out totalFree))
                throw new Win32Exception();
            return free;
        }

        // The root of the volume that holds path: C:\, a mount folder, or \\server\share\.
        public static string VolumeOf(string path)
        {
            StringBuilder buffer = new StringBuilder(1024);
            if (!NativeMethods.GetVolumePathNameW(path, buffer, (uint)buffer.Capacity))
                throw new Win32Exception();
            return buffer.ToString();
        }
    }

    public class CertificateCheck
    {
        public X509Certificate2Collection Anchors = new X509Certificate2Collection();
        public bool Validate = true;
        public bool Called = false;
        public bool Trusted = false;
        public string TrustedBy = "";
        public string Problem = "";
        public string Subject = "";
        public string NotAfter = "";

        public RemoteCertificateValidationCallback Callback
        {
            get { return new RemoteCertificateValidationCallback(Check); }
        }

        public bool Check(object sender, X509Certificate certificate, X509Chain chain, SslPolicyErrors errors)
        {
            Called = true;
            if (certificate == null)
            {
                Problem = "the server sent no certificate";
                return !Validate;
            }
            X509Certificate2 leaf = new X509Certificate2(certificate);
            Subject = leaf.Subject;
            NotAfter = leaf.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss") + " UTC";
            if (!Validate)
                return true;
            if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            {
                Problem = "the certificate (" + leaf.Subject + ") does not match the host name";
                return false;
            }
            if (errors == SslPolicyErrors.None)
            {
                Trusted = true;
                TrustedBy = "the Windows certificate store";
                return true;
            }
            if (Anchors.Count > 0 && AnchoredInBundle(leaf))
            {
                Trusted = true;
                TrustedBy = "the given CA certificates";
                return true;
            }
            Problem = Describe(chain, errors);
            return false;
        }

        private bool AnchoredInBundle(X509Certificate2 leaf)
        {
            X509Chain own = new X509Chain();
            own.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            own.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
            own.ChainPolicy.ExtraStore.AddRange(Anchors);
            if (!own.Build(leaf))
            {
                Problem = Describe(own, SslPolicyErrors.RemoteCertificateChainErrors);
                return false;
            }
            HashSet<string> thumbprints = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (X509Certificate2 anchor in Anchors)
                thumbprints.Add(anchor.Thumbprint);
            foreach (X509ChainElement element in own.ChainElements)
            {
                if (thumbprints.Contains(element.Certificate.Thumbprint))
                    return true;
            }
            return false;
        }

        private static string Describe(X509Chain chain, SslPolicyErrors errors)
        {
            List<string> reasons = new List<string>();
            if (chain != null)
            {
                foreach (X509ChainStatus status in chain.ChainStatus)
                {
                    string text = status.StatusInformation.Trim();
                    if (text.Length > 0 && !reasons.Contains(text))
                        reasons.Add(text);
                }
            }
            if (reasons.Count == 0)
                reasons.Add(errors.ToString());
            return "the certificate is not trusted: " + String.Join(" ", reasons.ToArray());
        }
    }
}
'@

# --- result plumbing -------------------------------------------------------------------------

function New-CheckResult {
    <# Severity: only where a check's failure is milder than its own severity in $CheckSeverity. #>
    param([bool]$Ok, [string]$Detail, [string]$Remedy = '', [string]$Severity = '')
    if ($Ok) {
        $Remedy = ''
    }
    @{ ok = $Ok; detail = $Detail; remedy = $Remedy; severity = $Severity }
}

function Get-RedactedUrl {
    <# The URL as messages may show it: its user information (user:password@) masked, all up to the last @. #>
    param([string]$Url)
    if ($Url -notmatch '@') {
        return $Url
    }
    [regex]::Replace($Url, '(?s)^((?:[A-Za-z][A-Za-z0-9+.-]*:)?//)?.*@', '$1***@')
}

function Get-RedactedText {
    <# A message with the user information of every URL in it masked. #>
    param([string]$Text)
    [regex]::Replace($Text, '([A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#]*@', '$1***@')
}

function Get-ErrorMessage {
    <# The innermost message of an error: a failed .NET call comes wrapped in "Exception calling ...". #>
    param($ErrorRecord)
    $exception = $ErrorRecord.Exception
    while ($null -ne $exception.InnerException) {
        $exception = $exception.InnerException
    }
    $exception.Message
}

function New-PreflightRunner {
    param([string[]]$Skip)
    @{
        skip = @($Skip)
        checks = New-Object -TypeName System.Collections.Generic.List[object]
        skipped = New-Object -TypeName System.Collections.Generic.List[string]
    }
}

function Add-SkippedCheck {
    param($Runner, [string[]]$Name)
    foreach ($item in $Name) {
        if (-not $Runner.skipped.Contains($item)) {
            $Runner.skipped.Add($item)
        }
    }
}

function Invoke-PreflightCheck {
    <# Runs one check unless skipped; returns $true or $false, or $null when skipped. #>
    param($Runner, [string]$Name, [scriptblock]$Action)
    if ($Runner.skip -contains $Name) {
        Add-SkippedCheck -Runner $Runner -Name $Name
        return $null
    }
    try {
        $outcome = & $Action
        # Stray pipeline output of a check must not hide its result, which comes last.
        if ($outcome -is [array]) {
            $outcome = $outcome[-1]
        }
    }
    catch {
        $outcome = New-CheckResult -Ok $false -Detail "the check itself failed: $(Get-ErrorMessage -ErrorRecord $_)" -Remedy (
            "Add $Name to pywats_client_preflight_skip and report this as a bug of virinco.pywats.win_pywats_preflight")
    }
    $Runner.checks.Add([ordered]@{
            name = $Name
            ok = [bool]$outcome.ok
            severity = $(if ($outcome.severity) { [string]$outcome.severity } else { $CheckSeverity[$Name] })
            detail = [string]$outcome.detail
            remedy = [string]$outcome.remedy
        })
    [bool]$outcome.ok
}

function Get-PreflightSummary {
    param($Runner)
    $failed = @($Runner.checks | Where-Object { -not $_.ok })
    $order = [string[]]$CheckSeverity.Keys
    @{
        errors = @($failed | Where-Object { $_.severity -eq 'error' }).Count
        warnings = @($failed | Where-Object { $_.severity -eq 'warning' }).Count
        passed = $Runner.checks.Count - $failed.Count
        skipped = @($Runner.skipped | Sort-Object -Property { [array]::IndexOf($order, $_) })
    }
}

function Format-FailureMessage {
    <# One line: each failed error check as "name: detail. Remedy: remedy", joined by "; ". #>
    param($Checks)
    $parts = foreach ($check in $Checks) {
        if (-not $check.ok -and $check.severity -eq 'error') {
            '{0}: {1}. Remedy: {2}' -f $check.name, $check.detail.TrimEnd('.'), $check.remedy.TrimEnd('.')
        }
    }
    @($parts) -join '; '
}

# --- small pure helpers ----------------------------------------------------------------------

function ConvertTo-LooseVersion {
    <# "3.10" -> 3.10.0; "3.11.4 64" -> 3.11.4; $null when the text starts with no number. #>
    param([string]$Text)
    if ($Text -notmatch '^\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?') {
        return $null
    }
    $parts = foreach ($index in 1..3) {
        if ($Matches[$index]) {
            [int]$Matches[$index]
        }
        else {
            0
        }
    }
    New-Object -TypeName System.Version -ArgumentList $parts[0], $parts[1], $parts[2]
}

function Test-AbsoluteWindowsPath {
    param([string]$Path)
    $Path -match '^[A-Za-z]:\\' -or $Path -match '^\\\\[^\\]+\\[^\\]+'
}

function Get-ExistingParent {
    <# The path itself when it exists, else its nearest existing ancestor (the volume root at worst). #>
    param([string]$Path, [scriptblock]$Exists = { param($Candidate) Test-Path -LiteralPath $Candidate -PathType Container })
    $current = $Path
    if ($current.Length -gt 3) {
        $current = $current.TrimEnd('\')
    }
    while (-not (& $Exists $current)) {
        $parent = [System.IO.Path]::GetDirectoryName($current)
        if ([string]::IsNullOrEmpty($parent) -or $parent -eq $current) {
            break
        }
        $current = $parent
    }
    $current
}

# A python.exe installed for one user only: in a user's profile, under AppData, or from the Microsoft
# Store. The service account cannot read it. The same pattern as PER_USER_PYTHON in
# plugins/module_utils/win_python.py (a unit test keeps them equal).
$PerUserPython = '^[A-Za-z]:[\\/]+Users[\\/]+(?!Public[\\/])[^\\/]+[\\/]|[\\/](AppData|WindowsApps)[\\/]'

function Test-PerUserPython {
    param([string]$Path)
    $Path -match $PerUserPython
}

function ConvertFrom-PyLauncherList {
    <# Interpreter paths from the output of "py -0p" (old "-3.11-64  C:\...\python.exe *" and new "-V:3.12 *  C:\..." forms). #>
    param([string]$Text)
    foreach ($line in ($Text -split "`r?`n")) {
        if ($line -match '^\s*-\S+\s+(?:\*\s+)?(?<path>[A-Za-z]:\\.+?\.exe)\s*\*?\s*$') {
            $Matches['path']
        }
    }
}

function ConvertFrom-PythonProbe {
    <# "3.11.4 64" -> @{ version = '3.11.4'; bits = 64 }, else $null. #>
    param([string]$Text)
    if ($Text -match '^\s*(?<version>\d+\.\d+\.\d+)\s+(?<bits>32|64)\s*$') {
        return @{ version = $Matches['version']; bits = [int]$Matches['bits'] }
    }
    $null
}

function Test-NoProxyMatch {
    param([string]$HostName, [string[]]$Entries)
    $name = $HostName.ToLowerInvariant().Trim('[', ']')
    foreach ($entry in $Entries) {
        $entry = ([string]$entry).Trim().ToLowerInvariant()
        if ($entry -eq '*') {
            return $true
        }
        $entry = $entry.TrimStart('.')
        if ($entry -and ($name -eq $entry -or $name.EndsWith('.' + $entry))) {
            return $true
        }
    }
    $false
}

function Get-EffectiveProxy {
    <# The proxy the client would use for this URL, or $null; the proxy option wins over the environment. #>
    param([string]$Scheme, [string]$HostName, [string]$Proxy, [string[]]$NoProxy, [System.Collections.IDictionary]$Environment)
    $envValue = {
        param($Name)
        foreach ($key in @($Name.ToUpperInvariant(), $Name.ToLowerInvariant())) {
            if ($Environment.Contains($key) -and $Environment[$key]) {
                return [string]$Environment[$key]
            }
        }
        ''
    }
    if (-not $Proxy) {
        $Proxy = & $envValue "$($Scheme)_proxy"
        if (-not $Proxy) {
            $Proxy = & $envValue 'all_proxy'
        }
    }
    $bypass = @($NoProxy | Where-Object { $_ })
    if ($bypass.Count -eq 0) {
        $bypass = @((& $envValue 'no_proxy') -split ',' | Where-Object { $_.Trim() })
    }
    if (-not $Proxy -or (Test-NoProxyMatch -HostName $HostName -Entries $bypass)) {
        return $null
    }
    if ($Proxy -notmatch '://') {
        $Proxy = 'http://' + $Proxy
    }
    $Proxy
}

function Get-ServerEndpoint {
    <# Where the server calls go: the server, and the proxy in front of it when one applies. #>
    param([string]$ServerUrl, [string]$Proxy, [string[]]$NoProxy, [System.Collections.IDictionary]$Environment)
    $uri = New-Object -TypeName System.Uri -ArgumentList $ServerUrl
    $scheme = $uri.Scheme.ToLowerInvariant()
    $point = @{
        scheme = $scheme
        host = $uri.DnsSafeHost
        port = $uri.Port
        url = $ServerUrl.TrimEnd('/') + '/api/App/Version'
        proxy = Get-EffectiveProxy -Scheme $scheme -HostName $uri.DnsSafeHost -Proxy $Proxy -NoProxy $NoProxy -Environment $Environment
        proxy_host = $null
        proxy_port = $null
        proxy_user = $null
        proxy_password = $null
    }
    if ($point.proxy) {
        $proxyUri = New-Object -TypeName System.Uri -ArgumentList $point.proxy
        $point.proxy_host = $proxyUri.DnsSafeHost
        $point.proxy_port = $proxyUri.Port
        if ($proxyUri.UserInfo) {
            $user, $password = $proxyUri.UserInfo -split ':', 2
            $point.proxy_user = [System.Uri]::UnescapeDataString($user)
            $point.proxy_password = [System.Uri]::UnescapeDataString([string]$password)
        }
    }
    $point
}

function Get-Hop {
    <# Host and port this station connects to, and how to name them in a detail. #>
    param($Point)
    if ($Point.proxy) {
        return @{ host = $Point.proxy_host; port = $Point.proxy_port; label = "proxy $($Point.proxy_host):$($Point.proxy_port)" }
    }
    @{ host = $Point.host; port = $Point.port; label = "$($Point.host):$($Point.port)" }
}

function Test-PemText {
    param([string]$Value)
    $Value.TrimStart().StartsWith('-----BEGIN')
}

function ConvertFrom-PemBundle {
    <# The DER bytes of each certificate in PEM text. #>
    param([string]$Text)
    $found = [regex]::Matches($Text, '-----BEGIN CERTIFICATE-----(?<body>[A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----')
    foreach ($match in $found) {
        , [Convert]::FromBase64String(($match.Groups['body'].Value -replace '\s', ''))
    }
}

function Get-CaLabel {
    param([string]$CaBundle)
    if (-not $CaBundle) {
        return 'the Windows certificate store'
    }
    if (Test-PemText -Value $CaBundle) {
        return 'the given PEM certificates'
    }
    $CaBundle
}

function Get-ClockSkew {
    <# Seconds the local clock is ahead of the server (negative: behind), or $null without a usable Date. #>
    param([string]$DateHeader, [datetime]$NowUtc)
    $parsed = [datetime]::MinValue
    $styles = [System.Globalization.DateTimeStyles]::AdjustToUniversal -bor [System.Globalization.DateTimeStyles]::AssumeUniversal
    $culture = [System.Globalization.CultureInfo]::InvariantCulture
    if (-not $DateHeader) {
        return $null
    }
    if (-not [datetime]::TryParseExact($DateHeader.Trim(), 'r', $culture, $styles, [ref]$parsed) -and
        -not [datetime]::TryParse($DateHeader, $culture, $styles, [ref]$parsed)) {
        return $null
    }
    [int][math]::Round(($NowUtc - $parsed).TotalSeconds)
}

function Test-ServiceOwnsProcess {
    <# Whether a process is the service's own process or runs under it (a wrapper's child), up to 5 levels. #>
    param([int]$ProcessId, [int]$ServiceProcessId, [System.Collections.IDictionary]$ParentOf)
    if ($ServiceProcessId -le 0) {
        return $false
    }
    $current = $ProcessId
    foreach ($level in 0..5) {
        if ($current -eq $ServiceProcessId) {
            return $true
        }
        if (-not $ParentOf.Contains($current)) {
            return $false
        }
        $current = [int]$ParentOf[$current]
    }
    $false
}

function Resolve-MachineExecutionPolicy {
    <# The policy that applies to scripts run outside Ansible, for any user: Group Policy, then LocalMachine, then the OS default. #>
    param([string]$MachinePolicy, [string]$LocalMachine, [bool]$IsServer)
    if ($MachinePolicy -and $MachinePolicy -ne 'Undefined') {
        return @{ policy = $MachinePolicy; scope = 'Group Policy (MachinePolicy)' }
    }
    if ($LocalMachine -and $LocalMachine -ne 'Undefined') {
        return @{ policy = $LocalMachine; scope = 'LocalMachine' }
    }
    if ($IsServer) {
        return @{ policy = 'RemoteSigned'; scope = 'the Windows Server default' }
    }
    @{ policy = 'Restricted'; scope = 'the Windows client default' }
}

function ConvertTo-VolumeRelativePath {
    <# C:\Program Files\pyWATS -> \program files\pywats (lower case, no trailing backslash), as UWF names exclusions. #>
    param([string]$Path)
    $relative = $Path -replace '^[A-Za-z]:', ''
    if (-not $relative.StartsWith('\')) {
        $relative = '\' + $relative
    }
    $relative = $relative.TrimEnd('\')
    $relative.ToLowerInvariant()
}

function Test-UwfExcluded {
    param([string]$Path, [string[]]$Exclusions)
    $relative = ConvertTo-VolumeRelativePath -Path $Path
    foreach ($exclusion in $Exclusions) {
        $excluded = ConvertTo-VolumeRelativePath -Path $exclusion
        if ($excluded -eq '') {
            continue
        }
        if ($relative -eq $excluded -or $relative.StartsWith($excluded + '\')) {
            return $true
        }
    }
    $false
}

function Get-UwfProblem {
    <#
    What the Unified Write Filter would throw away. State: @{ current_enabled; next_enabled; volumes = @(@{ drive = 'C:';
    current = $true; protected = $true; exclusions = @('\Users\x') }) }; Paths: @(@{ what; path }).
    Returns @{ what; path; drive; when } for each path whose writes would be thrown away.
    #>
    param($State, $Paths)
    foreach ($entry in $Paths) {
        if ($entry.path -notmatch '^([A-Za-z]:)') {
            continue
        }
        $drive = $Matches[1].ToUpperInvariant()
        $when = New-Object -TypeName System.Collections.Generic.List[string]
        foreach ($session in @(@{ current = $true; enabled = $State.current_enabled; label = 'now' },
                @{ current = $false; enabled = $State.next_enabled; label = 'after the next restart' })) {
            if (-not $session.enabled) {
                continue
            }
            $volume = @($State.volumes | Where-Object { ([string]$_.drive).ToUpperInvariant() -eq $drive -and [bool]$_.current -eq $session.current })
            if ($volume.Count -gt 0 -and $volume[0].protected -and -not (Test-UwfExcluded -Path $entry.path -Exclusions $volume[0].exclusions)) {
                $when.Add($session.label)
            }
        }
        if ($when.Count -gt 0) {
            @{ what = $entry.what; path = $entry.path; drive = $drive; when = ($when -join ' and ') }
        }
    }
}

function Measure-DiskNeed {
    <#
    Needs: @(@{ what; path; need; volume; free; error }) with volume/free read for the nearest existing parent.
    Paths on one volume add up, as they fill it together. Returns @{ ok; lines; short }.
    #>
    param($Needs)
    $groups = [ordered]@{}
    $broken = New-Object -TypeName System.Collections.Generic.List[string]
    foreach ($item in $Needs) {
        if ($item.error) {
            $broken.Add("cannot read the free space for $($item.what) $($item.path): $($item.error)")
            continue
        }
        $key = ([string]$item.volume).ToLowerInvariant()
        if (-not $groups.Contains($key)) {
            $groups[$key] = @{ volume = $item.volume; free = $item.free; need = 0; paths = New-Object -TypeName System.Collections.Generic.List[string] }
        }
        $groups[$key].need += $item.need
        $groups[$key].paths.Add("$($item.what) $($item.path)")
    }
    $lines = New-Object -TypeName System.Collections.Generic.List[string]
    $short = New-Object -TypeName System.Collections.Generic.List[string]
    foreach ($group in $groups.Values) {
        $line = '{0} MB free on {1}, {2} MB needed for {3}' -f $group.free, $group.volume, $group.need, ($group.paths -join ', ')
        $lines.Add($line)
        if ($group.free -lt $group.need) {
            $short.Add($line)
        }
    }
    foreach ($line in $broken) {
        $short.Add($line)
    }
    @{ ok = ($short.Count -eq 0); lines = @($lines); short = @($short) }
}

# --- boundary with the host ------------------------------------------------------------------

function Invoke-Executable {
    <# Runs a program without a shell; returns @{ rc; stdout; stderr }, rc $null on a timeout. #>
    param([string]$FilePath, [string]$Arguments, [int]$TimeoutSeconds)
    $info = New-Object -TypeName System.Diagnostics.ProcessStartInfo
    $info.FileName = $FilePath
    $info.Arguments = $Arguments
    $info.UseShellExecute = $false
    $info.CreateNoWindow = $true
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $process = [System.Diagnostics.Process]::Start($info)
    try {
        $stdout = $process.StandardOutput.ReadToEndAsync()
        $stderr = $process.StandardError.ReadToEndAsync()
        if (-not $process.WaitForExit($TimeoutSeconds * 1000)) {
            $process.Kill()
            return @{ rc = $null; stdout = ''; stderr = "no answer within $TimeoutSeconds s" }
        }
        $process.WaitForExit()
        @{ rc = $process.ExitCode; stdout = $stdout.Result; stderr = $stderr.Result }
    }
    finally {
        $process.Dispose()
    }
}

function Get-PythonProbe {
    <# @{ path; version; bits; problem } for one interpreter. #>
    param([string]$Path, [int]$TimeoutSeconds)
    $probe = @{ path = $Path; version = $null; bits = $null; problem = $null }
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) {
        $probe.problem = "$Path does not exist"
        return $probe
    }
    try {
        $answer = Invoke-Executable -FilePath $Path -Arguments ('-I -c "{0}"' -f $PythonProbe) -TimeoutSeconds $TimeoutSeconds
    }
    catch {
        $probe.problem = "$Path cannot be run: $(Get-ErrorMessage -ErrorRecord $_)"
        return $probe
    }
    $parsed = $null
    if ($answer.rc -eq 0) {
        $parsed = ConvertFrom-PythonProbe -Text $answer.stdout
    }
    if ($null -eq $parsed) {
        $probe.problem = "$Path did not report its version (rc=$($answer.rc)): $(($answer.stderr + $answer.stdout).Trim())"
        return $probe
    }
    $probe.version = $parsed.version
    $probe.bits = $parsed.bits
    $probe
}

function Get-RegisteredPython {
    <# python.exe of every all-users install registered under HKLM\SOFTWARE\Python\PythonCore (64-bit view). #>
    $base = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::LocalMachine, [Microsoft.Win32.RegistryView]::Registry64)
    try {
        $core = $base.OpenSubKey('SOFTWARE\Python\PythonCore')
        if ($null -eq $core) {
            return
        }
        foreach ($tag in $core.GetSubKeyNames()) {
            $install = $core.OpenSubKey("$tag\InstallPath")
            if ($null -eq $install) {
                continue
            }
            $executable = [string]$install.GetValue('ExecutablePath')
            if (-not $executable) {
                $directory = [string]$install.GetValue('')
                if ($directory) {
                    $executable = Join-Path -Path $directory -ChildPath 'python.exe'
                }
            }
            $install.Close()
            if ($executable) {
                $executable
            }
        }
        $core.Close()
    }
    finally {
        $base.Close()
    }
}

function Get-LauncherPython {
    <# Interpreters the py launcher knows, from "py -0p"; none without the launcher. #>
    param([int]$TimeoutSeconds)
    $launcher = Get-Command -Name py.exe -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($null -eq $launcher) {
        return
    }
    try {
        $answer = Invoke-Executable -FilePath $launcher.Source -Arguments '-0p' -TimeoutSeconds $TimeoutSeconds
    }
    catch {
        # A launcher that cannot run lists nothing; the registry may still know an interpreter.
        return
    }
    ConvertFrom-PyLauncherList -Text ($answer.stdout + "`n" + $answer.stderr)
}

function Get-VolumeFreeSpace {
    <# @{ volume; free } for the nearest existing parent of path, or @{ error }. #>
    param([string]$Path)
    $anchor = Get-ExistingParent -Path $Path
    try {
        @{
            volume = [Virinco.Pywats.Preflight.Disk]::VolumeOf($anchor)
            free = [long][math]::Floor([Virinco.Pywats.Preflight.Disk]::FreeBytes($anchor) / $Mib)
            error = $null
        }
    }
    catch {
        @{ volume = $null; free = $null; error = (Get-ErrorMessage -ErrorRecord $_) }
    }
}

function Connect-TcpEndpoint {
    <# A connected TcpClient to the first address of host that answers within the timeout. #>
    param([string]$HostName, [int]$Port, [int]$TimeoutSeconds)
    $problems = New-Object -TypeName System.Collections.Generic.List[string]
    foreach ($address in @([System.Net.Dns]::GetHostAddresses($HostName) | Select-Object -First 4)) {
        $client = New-Object -TypeName System.Net.Sockets.TcpClient -ArgumentList $address.AddressFamily
        try {
            $pending = $client.BeginConnect($address, $Port, $null, $null)
            if (-not $pending.AsyncWaitHandle.WaitOne($TimeoutSeconds * 1000)) {
                throw "no answer from $($address) within $TimeoutSeconds s"
            }
            $client.EndConnect($pending)
            $client.ReceiveTimeout = $TimeoutSeconds * 1000
            $client.SendTimeout = $TimeoutSeconds * 1000
            return $client
        }
        catch {
            $client.Close()
            $problems.Add((Get-ErrorMessage -ErrorRecord $_))
        }
    }
    if ($problems.Count -eq 0) {
        throw "$HostName has no address"
    }
    throw ($problems -join '; ')
}

function Open-ProxyTunnel {
    <# Sends CONNECT through an open connection to the proxy and reads its answer. #>
    param([System.IO.Stream]$Stream, $Point)
    $target = "$($Point.host):$($Point.port)"
    if ($Point.host -match ':') {
        $target = "[$($Point.host)]:$($Point.port)"
    }
    $lines = @("CONNECT $target HTTP/1.1", "Host: $target")
    if ($null -ne $Point.proxy_user) {
        $credentials = [Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes("$($Point.proxy_user):$($Point.proxy_password)"))
        $lines += "Proxy-Authorization: Basic $credentials"
    }
    $request = [System.Text.Encoding]::ASCII.GetBytes(($lines -join "`r`n") + "`r`n`r`n")
    $Stream.Write($request, 0, $request.Length)
    $answer = New-Object -TypeName System.Text.StringBuilder
    $buffer = New-Object -TypeName byte[] -ArgumentList 1
    # One byte at a time, so that nothing after the proxy's header is taken from the TLS stream.
    while ($answer.Length -lt 65536 -and -not $answer.ToString().EndsWith("`r`n`r`n")) {
        if ($Stream.Read($buffer, 0, 1) -le 0) {
            break
        }
        [void]$answer.Append([char]$buffer[0])
    }
    $status = ($answer.ToString() -split "`r`n")[0]
    if ($status -notmatch '^HTTP/\d(\.\d)?\s+200\b') {
        if (-not $status) {
            $status = 'no answer'
        }
        throw "proxy refused CONNECT $($target): $status"
    }
}

function Get-TlsProtocol {
    <# TLS 1.2, and 1.3 where Windows has it (Server 2022, Windows 11). #>
    $protocols = [System.Security.Authentication.SslProtocols]::Tls12
    $names = [enum]::GetNames([System.Security.Authentication.SslProtocols])
    if ($names -contains 'Tls13' -and [Environment]::OSVersion.Version.Build -ge 20348) {
        $protocols = [System.Security.Authentication.SslProtocols]([int]$protocols -bor [int][System.Security.Authentication.SslProtocols]'Tls13')
    }
    $protocols
}

function ConvertTo-TlsLabel {
    param([string]$Protocol)
    if ($Protocol -match '^Tls(\d)(\d)$') {
        return "TLS $($Matches[1]).$($Matches[2])"
    }
    if ($Protocol -eq 'Tls') {
        return 'TLS 1.0'
    }
    $Protocol
}

function New-CertificateCheck {
    <# The certificate callback's state, with the CA bundle (PEM text, PEM file or DER file) loaded. #>
    param([bool]$ValidateCerts, [string]$CaBundle)
    $check = New-Object -TypeName Virinco.Pywats.Preflight.CertificateCheck
    $check.Validate = $ValidateCerts
    if (-not $CaBundle) {
        return $check
    }
    $text = $CaBundle
    if (-not (Test-PemText -Value $CaBundle)) {
        if (-not (Test-Path -LiteralPath $CaBundle -PathType Leaf)) {
            throw "$CaBundle does not exist on the station"
        }
        $text = [System.IO.File]::ReadAllText($CaBundle)
    }
    $blobs = @(ConvertFrom-PemBundle -Text $text)
    if ($blobs.Count -eq 0 -and -not (Test-PemText -Value $CaBundle)) {
        $blobs = @(, [System.IO.File]::ReadAllBytes($CaBundle))
    }
    if ($blobs.Count -eq 0) {
        throw 'it holds no certificate'
    }
    foreach ($blob in $blobs) {
        [void]$check.Anchors.Add((New-Object -TypeName System.Security.Cryptography.X509Certificates.X509Certificate2 -ArgumentList (, $blob)))
    }
    $check
}

function Get-InnerWebException {
    param([System.Exception]$Exception)
    $current = $Exception
    while ($null -ne $current -and -not ($current -is [System.Net.WebException])) {
        $current = $current.InnerException
    }
    $current
}

function Invoke-VersionRequest {
    <# GET the version URL as the client does (no redirects); returns @{ status; date; location; body } for any HTTP answer. #>
    param($Point, [string]$Token, [int]$TimeoutSeconds, $CertificateCheck)
    $request = [System.Net.HttpWebRequest][System.Net.WebRequest]::Create($Point.url)
    $request.Method = 'GET'
    $request.Accept = 'application/json'
    $request.UserAgent = 'virinco.pywats-preflight'
    $request.AllowAutoRedirect = $false
    $request.Timeout = $TimeoutSeconds * 1000
    $request.ReadWriteTimeout = $TimeoutSeconds * 1000
    if ($Token) {
        $request.Headers.Add('Authorization', "Basic $Token")
    }
    if ($Point.proxy) {
        $webProxy = New-Object -TypeName System.Net.WebProxy -ArgumentList $Point.proxy_host, $Point.proxy_port
        if ($null -ne $Point.proxy_user) {
            $webProxy.Credentials = New-Object -TypeName System.Net.NetworkCredential -ArgumentList $Point.proxy_user, $Point.proxy_password
        }
        $request.Proxy = $webProxy
    }
    else {
        # Not the machine's WinINET proxy: the client reads only its own settings and environment.
        $request.Proxy = $null
    }
    if ($Point.scheme -eq 'https') {
        $request.ServerCertificateValidationCallback = $CertificateCheck.Callback
    }
    try {
        $response = $request.GetResponse()
    }
    catch {
        $webException = Get-InnerWebException -Exception $_.Exception
        if ($null -eq $webException -or $null -eq $webException.Response) {
            throw
        }
        $response = $webException.Response
    }
    try {
        $reader = New-Object -TypeName System.IO.StreamReader -ArgumentList $response.GetResponseStream()
        $buffer = New-Object -TypeName char[] -ArgumentList 65536
        $count = $reader.Read($buffer, 0, $buffer.Length)
        @{
            status = [int]$response.StatusCode
            date = $response.Headers['Date']
            location = $response.Headers['Location']
            body = New-Object -TypeName string -ArgumentList $buffer, 0, ([math]::Max($count, 0))
        }
    }
    finally {
        $response.Close()
    }
}

function ConvertFrom-VersionBody {
    <# The server answers a JSON string such as "24.2.0". #>
    param([string]$Body)
    $text = $Body.Trim()
    if ($text -match '^"(?<inner>(?:[^"\\]|\\.)*)"$') {
        return [regex]::Unescape($Matches['inner'])
    }
    if ($text.Length -gt 80) {
        $text = $text.Substring(0, 80)
    }
    if ($text) {
        return $text
    }
    $null
}

# --- the checks ------------------------------------------------------------------------------

function Test-Administrator {
    $identity = [System.Security.Principal.WindowsIdentity]::GetCurrent()
    $principal = New-Object -TypeName System.Security.Principal.WindowsPrincipal -ArgumentList $identity
    if ($principal.IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)) {
        return New-CheckResult -Ok $true -Detail "running as $($identity.Name) with an elevated token"
    }
    New-CheckResult -Ok $false -Detail "running as $($identity.Name) without an elevated administrator token" -Remedy (
        'Connect as a member of the local Administrators group (WinRM and SSH give such users an elevated token),' +
        ' or use become: true with become_method: runas and become_user: SYSTEM')
}

function Test-Python {
    param([string]$Python, [string]$PythonMin, [string]$Installer, [int]$TimeoutSeconds, $Facts)
    $minimum = ConvertTo-LooseVersion -Text $PythonMin
    $candidates = New-Object -TypeName System.Collections.Generic.List[string]
    if ($Python) {
        $candidates.Add($Python)
    }
    $perUser = New-Object -TypeName System.Collections.Generic.List[string]
    if (-not $Python) {
        foreach ($found in @(Get-RegisteredPython) + @(Get-LauncherPython -TimeoutSeconds $TimeoutSeconds)) {
            if (-not $found -or $candidates -contains $found -or $perUser -contains $found) {
                continue
            }
            # py -0p also lists the connecting administrator's own interpreters.
            if (Test-PerUserPython -Path $found) {
                $perUser.Add($found)
            }
            else {
                $candidates.Add($found)
            }
        }
    }
    $probes = @($candidates | Select-Object -First 8 | ForEach-Object { Get-PythonProbe -Path $_ -TimeoutSeconds $TimeoutSeconds })
    $usable = @($probes | Where-Object { $_.version -and $_.bits -eq 64 -and (ConvertTo-LooseVersion -Text $_.version) -ge $minimum } |
            Sort-Object -Property { ConvertTo-LooseVersion -Text $_.version } -Descending)
    $seen = @(@($probes | ForEach-Object {
                if ($_.problem) {
                    $_.problem
                }
                else {
                    "$($_.path) is Python $($_.version) $($_.bits)-bit"
                }
            }) + @($perUser | ForEach-Object { "$_ is installed for one user only, which the service account cannot read" })) -join ', '
    if ($usable.Count -gt 0) {
        $best = $usable[0]
        $Facts.python_path = $best.path
        $Facts.python_version = $best.version
        return New-CheckResult -Ok $true -Detail "$($best.path) is Python $($best.version) 64-bit"
    }
    if ($probes.Count -gt 0 -and $probes[0].version) {
        $Facts.python_path = $probes[0].path
        $Facts.python_version = $probes[0].version
    }
    if (-not $seen) {
        $seen = 'none registered under HKLM\SOFTWARE\Python\PythonCore, and no py launcher'
    }
    $want = "64-bit Python $PythonMin or newer"
    if ($Installer) {
        return New-CheckResult -Ok $true -Detail "no $want found ($seen); the role will install it from pywats_client_windows_python_installer ($Installer)"
    }
    New-CheckResult -Ok $false -Detail "no $want found ($seen)" -Remedy (
        "Install a $want for all users and set pywats_client_windows_python to its python.exe," +
        ' or set pywats_client_windows_python_installer to an installer the role can run')
}

function Test-DiskSpace {
    param($Needs, $Facts)
    foreach ($item in $Needs) {
        $space = Get-VolumeFreeSpace -Path $item.path
        $item.volume = $space.volume
        $item.free = $space.free
        $item.error = $space.error
        $Facts.free_mb[$item.path] = $space.free
    }
    # A share is read with the WinRM logon, which Windows does not pass on to a file server (the
    # double hop): what fails there says little about what the service, as its gMSA, will see.
    $onShare = @($Needs | Where-Object { [string]$_.path -match '^\\\\' })
    $local = Measure-DiskNeed -Needs @($Needs | Where-Object { [string]$_.path -notmatch '^\\\\' })
    $share = Measure-DiskNeed -Needs $onShare
    if (-not $local.ok) {
        return New-CheckResult -Ok $false -Detail ((@($local.short) + @($share.short)) -join ', ') -Remedy (
            'Free space on those volumes (Disk Cleanup, old installers, logs), or move the directories to a volume with room')
    }
    if (-not $share.ok) {
        return New-CheckResult -Ok $false -Severity 'warning' -Detail (
            ((@($local.lines) + @($share.short)) -join ', ') + ' (a share is read here with the WinRM logon, which Windows does not' +
            ' pass on to a file server, the double hop; the service reaches it as its gMSA, so this is a warning, not an error)') -Remedy (
            'Check the free space on the file server that holds the share, or connect with CredSSP or Kerberos delegation so' +
            ' that preflight can read it; add disk_space to pywats_client_preflight_skip to silence the warning')
    }
    New-CheckResult -Ok $true -Detail ((@($local.lines) + @($share.lines)) -join ', ')
}

function Test-ServerDns {
    param($Point)
    $hop = Get-Hop -Point $Point
    try {
        $addresses = @([System.Net.Dns]::GetHostAddresses($hop.host) | ForEach-Object { $_.IPAddressToString } | Sort-Object -Unique)
    }
    catch {
        return New-CheckResult -Ok $false -Detail "cannot resolve $($hop.host): $(Get-ErrorMessage -ErrorRecord $_)" -Remedy (
            'Check the host name in pywats_client_server_url (or pywats_client_proxy) and the DNS servers of the station')
    }
    New-CheckResult -Ok $true -Detail "$($hop.label) resolves to $($addresses -join ', ')"
}

function Test-ServerTcp {
    param($Point, [int]$TimeoutSeconds)
    $hop = Get-Hop -Point $Point
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    try {
        $client = Connect-TcpEndpoint -HostName $hop.host -Port $hop.port -TimeoutSeconds $TimeoutSeconds
        $client.Close()
    }
    catch {
        return New-CheckResult -Ok $false -Detail "cannot connect to $($hop.label): $(Get-ErrorMessage -ErrorRecord $_)" -Remedy (
            "Open the firewall from this station to $($hop.label), or set pywats_client_proxy")
    }
    New-CheckResult -Ok $true -Detail ('connected to {0} in {1} ms' -f $hop.label, $watch.ElapsedMilliseconds)
}

function Test-ServerTls {
    param($Point, [int]$TimeoutSeconds, [bool]$ValidateCerts, [string]$CaBundle)
    $remedy = 'Set pywats_client_ca_bundle to the CA that signed the server certificate' +
    ' (or, for a test server only, add server_tls to pywats_client_preflight_skip)'
    try {
        $certificateCheck = New-CertificateCheck -ValidateCerts $ValidateCerts -CaBundle $CaBundle
    }
    catch {
        $detail = "cannot load CA bundle $(Get-CaLabel -CaBundle $CaBundle): $(Get-ErrorMessage -ErrorRecord $_)"
        return New-CheckResult -Ok $false -Detail $detail -Remedy $remedy
    }
    $hop = Get-Hop -Point $Point
    $target = "$($Point.host):$($Point.port)"
    $client = $null
    $stage = 'connect'
    try {
        $client = Connect-TcpEndpoint -HostName $hop.host -Port $hop.port -TimeoutSeconds $TimeoutSeconds
        $stream = $client.GetStream()
        if ($Point.proxy) {
            $stage = 'tunnel'
            Open-ProxyTunnel -Stream $stream -Point $Point
        }
        $stage = 'handshake'
        $tls = New-Object -TypeName System.Net.Security.SslStream -ArgumentList $stream, $false, $certificateCheck.Callback
        try {
            $tls.AuthenticateAsClient($Point.host, $null, (Get-TlsProtocol), $false)
            $version = ConvertTo-TlsLabel -Protocol $tls.SslProtocol
        }
        finally {
            $tls.Dispose()
        }
    }
    catch {
        $reason = Get-ErrorMessage -ErrorRecord $_
        if ($stage -ne 'handshake') {
            return New-CheckResult -Ok $false -Detail "TLS connection to $target via $($hop.label) failed: $reason" -Remedy (
                'Check the proxy (pywats_client_proxy) and the firewall to the server')
        }
        if ($certificateCheck.Problem) {
            return New-CheckResult -Ok $false -Detail "TLS handshake with $($target) failed: $($certificateCheck.Problem)" -Remedy $remedy
        }
        return New-CheckResult -Ok $false -Detail "TLS handshake with $($target) failed: $reason" -Remedy (
            "Check that $target speaks TLS 1.2 or newer and that pywats_client_server_url has the right scheme and port")
    }
    finally {
        if ($null -ne $client) {
            $client.Close()
        }
    }
    if (-not $ValidateCerts) {
        return New-CheckResult -Ok $true -Detail "$version with $target; certificate not verified (validate_certs is false)"
    }
    New-CheckResult -Ok $true -Detail ('{0} with {1}; certificate verified against {2}, valid until {3}' -f
        $version, $target, $certificateCheck.TrustedBy, $certificateCheck.NotAfter)
}

function Test-ServerApi {
    param($Point, [string]$Token, [int]$TimeoutSeconds, [bool]$ValidateCerts, [string]$CaBundle, $Seen)
    $shown = Get-RedactedUrl -Url $Point.url
    $via = ''
    if ($Point.proxy) {
        $via = " via proxy $($Point.proxy_host):$($Point.proxy_port)"
    }
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    try {
        $certificateCheck = $null
        if ($Point.scheme -eq 'https') {
            $certificateCheck = New-CertificateCheck -ValidateCerts $ValidateCerts -CaBundle $CaBundle
        }
        $answer = Invoke-VersionRequest -Point $Point -Token $Token -TimeoutSeconds $TimeoutSeconds -CertificateCheck $certificateCheck
    }
    catch {
        $reason = Get-ErrorMessage -ErrorRecord $_
        $webException = Get-InnerWebException -Exception $_.Exception
        if ($null -ne $webException -and $webException.Message -ne $reason) {
            $reason = "$($webException.Message) $reason"
        }
        if ($null -ne $certificateCheck -and $certificateCheck.Problem) {
            $reason = "$reason ($($certificateCheck.Problem))"
        }
        $reason = Get-RedactedText -Text $reason
        return New-CheckResult -Ok $false -Detail "GET $shown$via failed: $reason" -Remedy (
            'Check pywats_client_server_url, pywats_client_proxy and that the server is up')
    }
    $Seen.answered = $true
    $Seen.date = $answer.date
    $status = $answer.status
    if ($status -ge 200 -and $status -lt 300) {
        $Seen.version = ConvertFrom-VersionBody -Body $answer.body
        return New-CheckResult -Ok $true -Detail ('GET {0}{1} answered {2} in {3} ms (server version {4})' -f
            $shown, $via, $status, $watch.ElapsedMilliseconds, $Seen.version)
    }
    if ($status -eq 401) {
        $what = 'requires an API token and none is set'
        if ($Token) {
            $what = 'rejected the API token'
        }
        return New-CheckResult -Ok $false -Detail "the server $what (HTTP 401 on GET $shown)" -Remedy (
            'Set pywats_client_api_token to a valid token for this server (sent as Authorization: Basic <token>)')
    }
    if ($status -ge 300 -and $status -lt 400) {
        $location = Get-RedactedUrl -Url ([string]$answer.location)
        return New-CheckResult -Ok $false -Detail "GET $shown redirects (HTTP $status) to $location" -Remedy (
            'Set pywats_client_server_url to the address it redirects to: the client does not follow redirects')
    }
    if ($status -eq 407) {
        return New-CheckResult -Ok $false -Detail 'the proxy requires authentication (HTTP 407)' -Remedy (
            'Put the proxy credentials in pywats_client_proxy (http://user:password@host:port)')
    }
    New-CheckResult -Ok $false -Detail "GET $shown$via answered HTTP $status" -Remedy (
        'Check that pywats_client_server_url is the base URL of a WATS server and that the server is healthy')
}

function Test-ClockSkew {
    param([string]$DateHeader, [int]$MaxSkew, $Facts)
    $remedy = 'Enable time synchronisation on the station (w32time: w32tm /config /syncfromflags:domhier /update, or a reachable NTP server)'
    $skew = Get-ClockSkew -DateHeader $DateHeader -NowUtc ([datetime]::UtcNow)
    if ($null -eq $skew) {
        return New-CheckResult -Ok $false -Detail "the server sent no usable Date header ('$DateHeader'), so the clocks were not compared" -Remedy $remedy
    }
    $Facts.clock_skew_seconds = $skew
    if ([math]::Abs($skew) -gt $MaxSkew) {
        $side = 'behind'
        if ($skew -gt 0) {
            $side = 'ahead of'
        }
        $detail = 'the local clock is {0} s {1} the server (at most {2} s allowed)' -f [math]::Abs($skew), $side, $MaxSkew
        return New-CheckResult -Ok $false -Detail $detail -Remedy $remedy
    }
    New-CheckResult -Ok $true -Detail ('the local clock is within {0} s of the server' -f [math]::Abs($skew))
}

function Get-ParentProcessMap {
    <# ProcessId -> ParentProcessId for every process, to follow a wrapper service down to its python.exe. #>
    $map = @{}
    foreach ($process in @(Get-CimInstance -ClassName Win32_Process -Property @('ProcessId', 'ParentProcessId'))) {
        $map[[int]$process.ProcessId] = [int]$process.ParentProcessId
    }
    $map
}

function Test-HealthPort {
    param([int]$Port, [string]$ServiceName)
    $remedy = 'Stop the program that holds the port, or set pywats_client_health_port to a free port'
    if (-not (Get-Command -Name Get-NetTCPConnection -ErrorAction SilentlyContinue)) {
        # Windows without the NetTCPIP module: a bind tells free from taken, not by whom.
        $listener = New-Object -TypeName System.Net.Sockets.TcpListener -ArgumentList ([System.Net.IPAddress]::Any), $Port
        try {
            $listener.Start()
            $listener.Stop()
            return New-CheckResult -Ok $true -Detail "port $Port is free"
        }
        catch {
            return New-CheckResult -Ok $false -Detail "port $Port is in use (the owner cannot be read here)" -Remedy $remedy
        }
    }
    $owners = @(Get-NetTCPConnection -LocalPort $Port -State Listen -ErrorAction SilentlyContinue |
            Select-Object -ExpandProperty OwningProcess -Unique)
    if ($owners.Count -eq 0) {
        return New-CheckResult -Ok $true -Detail "port $Port is free"
    }
    $filter = "Name='{0}'" -f ($ServiceName -replace '\\', '\\' -replace "'", "\'")
    $service = Get-CimInstance -ClassName Win32_Service -Filter $filter -ErrorAction SilentlyContinue | Select-Object -First 1
    $servicePid = 0
    if ($null -ne $service) {
        $servicePid = [int]$service.ProcessId
    }
    $parents = Get-ParentProcessMap
    $foreign = @($owners | Where-Object { -not (Test-ServiceOwnsProcess -ProcessId $_ -ServiceProcessId $servicePid -ParentOf $parents) })
    $names = @($owners | ForEach-Object {
            $process = Get-Process -Id $_ -ErrorAction SilentlyContinue
            if ($null -ne $process) {
                '{0} (pid {1})' -f $process.ProcessName, $_
            }
            else {
                "pid $_"
            }
        }) -join ', '
    if ($foreign.Count -eq 0) {
        return New-CheckResult -Ok $true -Detail "port $Port is held by $names of the service $ServiceName itself"
    }
    New-CheckResult -Ok $false -Detail "port $Port is in use by $names, not by the service $ServiceName" -Remedy $remedy
}

function ConvertFrom-UwfExclusion {
    <# The FileName of an UWF_ExcludedFile, given as an instance or as its MOF text. #>
    param($Item)
    if ($Item -is [string]) {
        if ($Item -match 'FileName\s*=\s*"(?<name>(?:[^"\\]|\\.)*)"') {
            return [regex]::Unescape($Matches['name'])
        }
        return $Item
    }
    [string]$Item.FileName
}

function Get-UwfState {
    <# $null without UWF; else the filter's state and each volume's protection and file exclusions. #>
    $namespace = 'root\standardcimv2\embedded'
    try {
        $filter = Get-CimInstance -Namespace $namespace -ClassName UWF_Filter -ErrorAction Stop | Select-Object -First 1
    }
    catch {
        return $null
    }
    if ($null -eq $filter) {
        return $null
    }
    $volumes = foreach ($volume in @(Get-CimInstance -Namespace $namespace -ClassName UWF_Volume -ErrorAction SilentlyContinue)) {
        $exclusions = @()
        $listed = Invoke-CimMethod -InputObject $volume -MethodName GetExclusions -ErrorAction SilentlyContinue
        if ($null -ne $listed -and $null -ne $listed.ExcludedFiles) {
            $exclusions = @($listed.ExcludedFiles | ForEach-Object { ConvertFrom-UwfExclusion -Item $_ })
        }
        @{ drive = [string]$volume.DriveLetter; current = [bool]$volume.CurrentSession; protected = [bool]$volume.Protected; exclusions = $exclusions }
    }
    @{ current_enabled = [bool]$filter.CurrentEnabled; next_enabled = [bool]$filter.NextEnabled; volumes = @($volumes) }
}

function Test-Uwf {
    param($Paths, [string]$ServiceName, $Facts)
    $state = Get-UwfState
    if ($null -eq $state) {
        $Facts.uwf_enabled = $false
        return New-CheckResult -Ok $true -Detail 'the Unified Write Filter is not installed'
    }
    $Facts.uwf_enabled = $state.current_enabled -or $state.next_enabled
    if (-not $Facts.uwf_enabled) {
        return New-CheckResult -Ok $true -Detail 'the Unified Write Filter is installed but disabled, now and after the next restart'
    }
    $problems = @(Get-UwfProblem -State $state -Paths $Paths)
    if ($problems.Count -eq 0) {
        return New-CheckResult -Ok $true -Detail (
            'the Unified Write Filter is enabled, and the volumes of the client''s directories are unprotected or the directories are excluded')
    }
    $atRisk = @($problems | ForEach-Object { '{0} {1} (volume {2} protected {3}, path not excluded)' -f $_.what, $_.path, $_.drive, $_.when })
    $drives = @($problems | ForEach-Object { $_.drive } | Sort-Object -Unique)
    $exclusions = @($problems | ForEach-Object { 'uwfmgr file add-exclusion "{0}"' -f $_.path }) -join ', '
    New-CheckResult -Ok $false -Detail (
        'the Unified Write Filter is enabled and would discard, at every restart, what the client writes to ' + ($atRisk -join ', ')) -Remedy (
        "Unprotect the volume (uwfmgr volume unprotect $($drives -join ', uwfmgr volume unprotect ')) or exclude the directories ($exclusions)" +
        " and the service's registry key (uwfmgr registry add-exclusion ""HKLM\SYSTEM\CurrentControlSet\Services\$ServiceName"")," +
        ' then restart; or add uwf to pywats_client_preflight_skip')
}

function Get-PendingReboot {
    <# Reasons Windows wants a restart. #>
    $reasons = New-Object -TypeName System.Collections.Generic.List[string]
    if (Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending') {
        $reasons.Add('Component Based Servicing (RebootPending)')
    }
    if (Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired') {
        $reasons.Add('Windows Update (RebootRequired)')
    }
    $sessionManager = Get-ItemProperty -LiteralPath 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' -ErrorAction SilentlyContinue
    if ($null -ne $sessionManager -and $sessionManager.PSObject.Properties['PendingFileRenameOperations'] -and
        @($sessionManager.PendingFileRenameOperations | Where-Object { $_ }).Count -gt 0) {
        $reasons.Add('file renames at the next restart (PendingFileRenameOperations)')
    }
    @($reasons)
}

function Test-PendingReboot {
    param($Facts)
    $reasons = @(Get-PendingReboot)
    $Facts.pending_reboot = $reasons
    if ($reasons.Count -eq 0) {
        return New-CheckResult -Ok $true -Detail 'no restart is pending'
    }
    New-CheckResult -Ok $false -Detail "a restart is pending: $($reasons -join ', ')" -Remedy (
        'Restart the station before installing (ansible.windows.win_reboot), so that installers and the service start on a settled system')
}

function Test-ExecutionPolicy {
    param($Facts)
    $os = Get-CimInstance -ClassName Win32_OperatingSystem -Property ProductType
    $scopes = @{
        MachinePolicy = [string](Get-ExecutionPolicy -Scope MachinePolicy)
        LocalMachine = [string](Get-ExecutionPolicy -Scope LocalMachine)
        IsServer = ([int]$os.ProductType -ne 1)
    }
    $resolved = Resolve-MachineExecutionPolicy @scopes
    $Facts.execution_policy = $resolved.policy
    $found = "the execution policy for scripts run outside Ansible is $($resolved.policy), from $($resolved.scope)"
    $remedy = 'Set-ExecutionPolicy -ExecutionPolicy RemoteSigned -Scope LocalMachine (or through Group Policy when it sets the policy),' +
    ' or add execution_policy to pywats_client_preflight_skip when no PowerShell script runs on the station'
    if ($resolved.policy -eq 'Restricted') {
        return New-CheckResult -Ok $false -Detail ("$found, which runs no .ps1 script at all: the venv's Activate.ps1 and maintenance or" +
            ' support scripts for the client fail (Ansible is not affected: it runs no script files)') -Remedy $remedy
    }
    if ($resolved.policy -eq 'AllSigned') {
        return New-CheckResult -Ok $false -Detail ("$found, which runs only signed scripts: the venv's unsigned Activate.ps1 and unsigned" +
            ' maintenance or support scripts for the client fail (Ansible is not affected: it runs no script files)') -Remedy $remedy
    }
    New-CheckResult -Ok $true -Detail $found
}

function Test-Defender {
    <# Informational: tells the role whether Defender exclusions apply; never fails. #>
    param($Facts)
    $Facts.defender_present = $false
    if (-not (Get-Command -Name Get-MpComputerStatus -ErrorAction SilentlyContinue)) {
        return New-CheckResult -Ok $true -Detail 'Microsoft Defender is not installed (no Get-MpComputerStatus)'
    }
    try {
        $status = Get-MpComputerStatus -ErrorAction Stop
    }
    catch {
        return New-CheckResult -Ok $true -Detail "Microsoft Defender is installed but not running (another antivirus?): $(Get-ErrorMessage -ErrorRecord $_)"
    }
    $Facts.defender_present = [bool]$status.AMServiceEnabled
    $Facts.defender_realtime_protection = [bool]$status.RealTimeProtectionEnabled
    if (-not $Facts.defender_present) {
        return New-CheckResult -Ok $true -Detail 'Microsoft Defender is installed but its antimalware service is off'
    }
    $realtime = 'off'
    if ($Facts.defender_realtime_protection) {
        $realtime = 'on'
    }
    New-CheckResult -Ok $true -Detail ("Microsoft Defender is running (real-time protection $realtime); the role can exclude" +
        ' the install and data directories and the watch folders from scanning')
}

# --- main ------------------------------------------------------------------------------------

function Test-PreflightParameter {
    <# Input errors fail the module at once, before any check runs; returns the message or $null. #>
    param($Params)
    if ($null -eq (ConvertTo-LooseVersion -Text $Params.python_min)) {
        return "python_min must be a version such as 3.10, got '$($Params.python_min)'"
    }
    if ($Params.server_url) {
        $uri = $null
        if (-not [System.Uri]::TryCreate($Params.server_url, [System.UriKind]::Absolute, [ref]$uri) -or
            @('http', 'https') -notcontains $uri.Scheme -or -not $uri.Host) {
            return "server_url must be an http:// or https:// URL with a host, got '$(Get-RedactedUrl -Url $Params.server_url)'"
        }
        if ($Params.server_url -match '@') {
            return ("server_url must not carry credentials (user:password@host): the client authenticates with api_token only;" +
                " got '$(Get-RedactedUrl -Url $Params.server_url)'")
        }
    }
    if ($Params.proxy) {
        $proxy = $Params.proxy
        if ($proxy -notmatch '://') {
            $proxy = 'http://' + $proxy
        }
        $uri = $null
        if (-not [System.Uri]::TryCreate($proxy, [System.UriKind]::Absolute, [ref]$uri) -or $uri.Scheme -ne 'http' -or -not $uri.Host) {
            return 'proxy must be an http:// URL such as http://proxy.example.com:3128'
        }
    }
    if ($null -ne $Params.health_port -and ($Params.health_port -lt 1 -or $Params.health_port -gt 65535)) {
        return "health_port must be between 1 and 65535, got $($Params.health_port)"
    }
    if ($Params.timeout -le 0) {
        return "timeout must be a positive number of seconds, got $($Params.timeout)"
    }
    foreach ($name in @('install_dir', 'data_dir')) {
        if (-not (Test-AbsoluteWindowsPath -Path $Params[$name])) {
            return "$name must be an absolute path such as C:\dir, got '$($Params[$name])'"
        }
    }
    foreach ($folder in @($Params.watch_folders)) {
        if (-not (Test-AbsoluteWindowsPath -Path $folder)) {
            return "watch_folders must hold absolute paths such as D:\drop or \\server\share\drop, got '$folder'"
        }
    }
    $null
}

function Invoke-ServerCheck {
    param($Params, $Runner, $Facts)
    $point = Get-ServerEndpoint -ServerUrl $Params.server_url -Proxy $Params.proxy -NoProxy @($Params.no_proxy) -Environment (
        [Environment]::GetEnvironmentVariables())
    $seen = @{ answered = $false; date = $null; version = $null }
    $steps = New-Object -TypeName System.Collections.Generic.List[object]
    $steps.Add(@{ name = 'server_dns'; action = { Test-ServerDns -Point $point } })
    $steps.Add(@{ name = 'server_tcp'; action = { Test-ServerTcp -Point $point -TimeoutSeconds $Params.timeout } })
    if ($point.scheme -eq 'https') {
        $steps.Add(@{
                name = 'server_tls'
                action = { Test-ServerTls -Point $point -TimeoutSeconds $Params.timeout -ValidateCerts $Params.validate_certs -CaBundle $Params.ca_bundle }
            })
    }
    else {
        Add-SkippedCheck -Runner $Runner -Name 'server_tls'
    }
    $steps.Add(@{
            name = 'server_api'
            action = {
                $call = @{
                    Point = $point
                    Token = $Params.api_token
                    TimeoutSeconds = $Params.timeout
                    ValidateCerts = $Params.validate_certs
                    CaBundle = $Params.ca_bundle
                    Seen = $seen
                }
                Test-ServerApi @call
            }
        })
    for ($index = 0; $index -lt $steps.Count; $index++) {
        $passed = Invoke-PreflightCheck -Runner $Runner -Name $steps[$index].name -Action $steps[$index].action
        if ($false -eq $passed) {
            # Later steps need this one: skip them rather than report the same failure again.
            for ($later = $index + 1; $later -lt $steps.Count; $later++) {
                Add-SkippedCheck -Runner $Runner -Name $steps[$later].name
            }
            break
        }
    }
    $Facts.server_version = $seen.version
    if ($seen.answered) {
        [void](Invoke-PreflightCheck -Runner $Runner -Name 'clock_skew' -Action {
                Test-ClockSkew -DateHeader $seen.date -MaxSkew $Params.max_clock_skew -Facts $Facts
            })
    }
    else {
        Add-SkippedCheck -Runner $Runner -Name 'clock_skew'
    }
}

function Invoke-Preflight {
    param($Params)
    $facts = @{
        python_path = $null
        python_version = $null
        free_mb = @{}
        server_version = $null
        clock_skew_seconds = $null
        uwf_enabled = $null
        pending_reboot = $null
        execution_policy = $null
        defender_present = $null
        defender_realtime_protection = $null
    }
    $runner = New-PreflightRunner -Skip @($Params.skip)
    # What the client writes while it runs. install_dir (the venv, the host) is written by the role
    # only, and the role refuses to run while the filter protects the session: it needs no exclusion.
    $paths = @(@{ what = 'data_dir'; path = $Params.data_dir })
    $paths += @($Params.watch_folders | ForEach-Object { @{ what = 'watch folder'; path = $_ } })
    $needs = @(
        @{ what = 'install_dir'; path = $Params.install_dir; need = $Params.min_free_mb_install }
        @{ what = 'data_dir'; path = $Params.data_dir; need = $Params.min_free_mb_data }
    )
    $needs += @($Params.watch_folders | ForEach-Object { @{ what = 'watch folder'; path = $_; need = $Params.min_free_mb_watch } })

    [void](Invoke-PreflightCheck -Runner $runner -Name 'administrator' -Action { Test-Administrator })
    [void](Invoke-PreflightCheck -Runner $runner -Name 'python' -Action {
            Test-Python -Python $Params.python -PythonMin $Params.python_min -Installer $Params.python_installer -TimeoutSeconds $Params.timeout -Facts $facts
        })
    [void](Invoke-PreflightCheck -Runner $runner -Name 'disk_space' -Action { Test-DiskSpace -Needs $needs -Facts $facts })
    if ($Params.server_url) {
        Invoke-ServerCheck -Params $Params -Runner $runner -Facts $facts
    }
    else {
        Add-SkippedCheck -Runner $runner -Name $ServerChecks
    }
    if ($null -eq $Params.health_port) {
        Add-SkippedCheck -Runner $runner -Name 'health_port'
    }
    else {
        [void](Invoke-PreflightCheck -Runner $runner -Name 'health_port' -Action {
                Test-HealthPort -Port $Params.health_port -ServiceName $Params.service_name
            })
    }
    [void](Invoke-PreflightCheck -Runner $runner -Name 'uwf' -Action { Test-Uwf -Paths $paths -ServiceName $Params.service_name -Facts $facts })
    [void](Invoke-PreflightCheck -Runner $runner -Name 'pending_reboot' -Action { Test-PendingReboot -Facts $facts })
    [void](Invoke-PreflightCheck -Runner $runner -Name 'execution_policy' -Action { Test-ExecutionPolicy -Facts $facts })
    [void](Invoke-PreflightCheck -Runner $runner -Name 'defender' -Action { Test-Defender -Facts $facts })
    $summary = Get-PreflightSummary -Runner $runner
    @{ checks = @($runner.checks); summary = $summary; facts = $facts }
}

$problem = Test-PreflightParameter -Params $module.Params
if ($problem) {
    $module.FailJson($problem)
}
Add-CSharpType -AnsibleModule $module -References $csharp
# Windows PowerShell 5.1 offers only SSL 3 and TLS 1.0 to web servers by default; the client offers TLS 1.2 and newer.
try {
    [System.Net.ServicePointManager]::SecurityProtocol = [System.Net.SecurityProtocolType][int](Get-TlsProtocol)
}
catch {
    $module.Warn("cannot offer TLS 1.2 to the server API: $(Get-ErrorMessage -ErrorRecord $_)")
}

$preflight = Invoke-Preflight -Params $module.Params
$module.Result.changed = $false
$module.Result.checks = $preflight.checks
$module.Result.summary = $preflight.summary
$module.Result.facts = $preflight.facts
if ($preflight.summary.errors -gt 0) {
    $module.FailJson((Format-FailureMessage -Checks $preflight.checks))
}
$module.ExitJson()
