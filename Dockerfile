# ---- Build ------------------------------------------------------------------------------------------------------
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src

# Restore first, from the project files alone, so the package layer is reused until a project or version changes.
COPY Directory.Build.props Directory.Packages.props ./
COPY src/LoyaltyCore.Engine/LoyaltyCore.Engine.csproj src/LoyaltyCore.Engine/
COPY src/LoyaltyCore.Server/LoyaltyCore.Server.csproj src/LoyaltyCore.Server/
RUN dotnet restore src/LoyaltyCore.Server/LoyaltyCore.Server.csproj

# The analyzer settings are part of the build (warnings are errors), so they come along with the sources; the protos
# are compiled by the build, not the restore, so a contract change does not invalidate the package layer.
COPY .editorconfig ./
COPY protos/ protos/
COPY src/ src/
RUN dotnet publish src/LoyaltyCore.Server/LoyaltyCore.Server.csproj \
        --configuration Release \
        --no-restore \
        --output /app \
        -p:UseAppHost=false

# ---- Runtime ----------------------------------------------------------------------------------------------------
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app

# Listen on every interface inside the container. The server binds its own two ports (Server:GrpcPort for gRPC over
# cleartext HTTP/2, Server:MetricsPort for /metrics), so the image's default ASPNETCORE_HTTP_PORTS=8080 is cleared.
ENV Server__BindAddress=0.0.0.0 \
    ASPNETCORE_HTTP_PORTS=""

COPY --from=build /app ./

# The default ledger is a SQLite file at data/ledger.db (relative to /app); the only directory the app user may write.
RUN mkdir -p /app/data && chown "$APP_UID" /app/data

# The image's non-root "app" user (UID 1654).
USER $APP_UID

EXPOSE 5000 5080 9464

# No HEALTHCHECK: the runtime image has no gRPC client to run one. Orchestrators probe the gRPC health service
# directly (README, "Health and probes"): service "liveness" for liveness, "readiness" for readiness.

ENTRYPOINT ["dotnet", "LoyaltyCore.Server.dll"]
