; Inno Setup script: a Windows installer for the one-folder build in dist\formtrail (make dist / pyinstaller).
;   iscc installer\formtrail.iss
#define AppVersion GetEnv("FORMTRAIL_VERSION")
#if AppVersion == ""
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6B0E6C4A-2B1F-4B5E-9C2D-5F0F3A1E7D21}
AppName=Formtrail
AppVersion={#AppVersion}
AppPublisher=Formtrail
DefaultDirName={autopf}\Formtrail
DefaultGroupName=Formtrail
OutputDir=..\dist
OutputBaseFilename=formtrail-setup-{#AppVersion}
Compression=lzma2
SolidCompression=yes
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequired=admin
UninstallDisplayIcon={app}\formtrail-gui.exe

[Files]
Source: "..\dist\formtrail\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{group}\Formtrail"; Filename: "{app}\formtrail-gui.exe"
Name: "{autodesktop}\Formtrail"; Filename: "{app}\formtrail-gui.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Run]
Filename: "{app}\formtrail-gui.exe"; Description: "Start Formtrail"; Flags: nowait postinstall skipifsilent
